import { encodeCheckin, encodePing } from "@osad2/protocol";
import type { ClientSender, ConnectionSender, LostConnections, Publisher } from "./ports.js";
import type { ClientRoutes } from "./routes.js";

/**
 * Pings and checkins to every kind of client. A v3 client (one connection, bound by its
 * verified hello) gets them over the ROUTER on its own connection; seed-format and v2
 * clients get them on the PUB socket. A send to a bound connection that is gone fails at once
 * (ROUTER_MANDATORY: EHOSTUNREACH), which unbinds it and tells presence the client is offline.
 */
export class ClientDelivery implements ClientSender {
  constructor(
    private readonly publisher: Publisher,
    private readonly connections: ConnectionSender,
    private readonly routes: ClientRoutes,
    private readonly lost: LostConnections,
  ) {}

  async ping(token: string): Promise<void> {
    const frame = encodePing(token);
    // Never awaited one by one: each send is queued or refused at once (send timeout 0).
    for (const [clientName, routingId] of this.routes.entries()) {
      this.deliver(clientName, routingId, frame);
    }
    await this.publisher.publish(frame);
  }

  async checkin(clientName: string): Promise<void> {
    const routingId = this.routes.routeOf(clientName);
    if (routingId === undefined) {
      await this.publisher.publish(encodeCheckin(clientName));
      return;
    }
    this.deliver(clientName, routingId, encodeCheckin(clientName));
  }

  private deliver(clientName: string, routingId: Buffer, frame: Buffer): void {
    void this.connections.sendTo(routingId, frame).then((outcome) => {
      // "full": a slow peer past its high-water mark; dropped, like PUB would, never waited for.
      if (outcome === "gone" && this.routes.release(clientName, routingId)) {
        this.lost.connectionLost(clientName);
      }
    });
  }
}
