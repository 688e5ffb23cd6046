// Runs oauth2-mock-server (a third-party OAuth 2.0 / OpenID Connect server) on a free loopback
// port for VitaSync's tests. Prints {"issuer": "..."} once listening; stops when stdin closes.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
process.stdout.write(JSON.stringify({ issuer: server.issuer.url }) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.stop();
  process.exit(0);
});
