import { encodeCheckin, encodePing } from "@osad2/protocol";
import type { ClientSender, LostConnections, Publisher } from "./ports.js";
import type { ClientRoutes, Route } from "./routes.js";

/**
 * Pings and checkins to every kind of client. A v3 client (one connection, bound by its
 * verified hello) gets them on its own connection (the ROUTER, or its proxy's link); seed-format and v2
 * clients get them on the PUB socket. A send to a bound connection that is gone fails at once
 * (ROUTER_MANDATORY: EHOSTUNREACH), which unbinds it and tells presence the client is offline.
 */
export class ClientDelivery implements ClientSender {
  constructor(
    private readonly publisher: Publisher,
    private readonly routes: ClientRoutes,
    private readonly lost: LostConnections,
  ) {}

  async ping(token: string): Promise<void> {
    const frame = encodePing(token);
    // Never awaited one by one: each send is queued or refused at once (send timeout 0).
    for (const [clientName, route] of this.routes.entries()) {
      this.deliver(clientName, route, frame);
    }
    await this.publisher.publish(frame);
  }

  async checkin(clientName: string): Promise<void> {
    const route = this.routes.routeOf(clientName);
    if (route === undefined) {
      await this.publisher.publish(encodeCheckin(clientName));
      return;
    }
    this.deliver(clientName, route, encodeCheckin(clientName));
  }

  private deliver(clientName: string, route: Route, frame: Buffer): void {
    void route.sender.sendTo(route.id, frame).then((outcome) => {
      // "full": a slow peer past its high-water mark; dropped, like PUB would, never waited for.
      if (outcome === "gone" && this.routes.release(clientName, route)) {
        this.lost.connectionLost(clientName);
      }
    });
  }
}
