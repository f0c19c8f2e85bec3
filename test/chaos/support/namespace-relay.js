// A TCP relay run inside a module host's network namespace (`ip netns exec <ns> node this listen
// target`): the robots' webhook URL names 127.0.0.1:<port> (the receiver on the test's host), and on
// a module host that address is the namespace's own loopback, so this passes it on across the veth
// to the host's forwarder. Node built-ins only; ends with its parent (stdin closes).
const net = require('node:net');

const [listen, target] = process.argv.slice(2);
const [listenHost, listenPort] = String(listen).split(':');
const [targetHost, targetPort] = String(target).split(':');
const server = net.createServer((client) => {
  const upstream = net.connect(Number(targetPort), targetHost);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen(Number(listenPort), listenHost, () => process.stdout.write('relay listening\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
