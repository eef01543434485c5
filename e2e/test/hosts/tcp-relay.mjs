// A TCP relay on a proxy host, standing in for what a Spacewalk proxy's web server does for
// its systems (not osad2's part): it passes their XML-RPC (register_osad) on to the server.
// Each connection goes to the first target that accepts it, so a failover set's standby is
// tried when the active server is gone.
//   node tcp-relay.mjs LISTEN_PORT HOST:PORT [HOST:PORT …]
import net from "node:net";

const [port, ...targets] = process.argv.slice(2);
if (port === undefined || targets.length === 0) {
  console.error("usage: tcp-relay.mjs LISTEN_PORT HOST:PORT [HOST:PORT …]");
  process.exit(2);
}

function relay(socket, index) {
  const target = targets[index];
  if (target === undefined) {
    socket.destroy();
    return;
  }
  const colon = target.lastIndexOf(":");
  const upstream = net.connect(Number(target.slice(colon + 1)), target.slice(0, colon));
  let connected = false;
  upstream.once("connect", () => {
    connected = true;
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  upstream.on("error", () => {
    if (connected) socket.destroy();
    else relay(socket, index + 1);
  });
  socket.on("error", () => upstream.destroy());
  socket.on("close", () => upstream.destroy());
}

net
  .createServer((socket) => relay(socket, 0))
  .listen(Number(port), () => console.log(`relay listening on ${port} for ${targets.join(",")}`));
