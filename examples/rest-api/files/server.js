// The rest-api chart's API: GET /health answers ok (after a PING to the Redis sidecar when
// there is one), GET / counts hits in Redis and reports the app version and database URL.
const http = require('node:http');
const net = require('node:net');

const redisPort = process.env.REDIS_PORT ? Number(process.env.REDIS_PORT) : undefined;

function redis(...args) {
  return new Promise((resolve, reject) => {
    const s = net.connect(redisPort, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.endsWith('\r\n')) {
        s.end();
        resolve(buf);
      }
    });
    s.on('error', reject);
    s.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

http
  .createServer(async (req, res) => {
    try {
      if (req.url === '/health') {
        const ok = redisPort === undefined || (await redis('PING')).startsWith('+PONG');
        res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'redis not ready\n');
        return;
      }
      const hits = redisPort === undefined ? null : Number((await redis('INCR', 'hits')).slice(1).trim());
      const body = { version: process.env.APP_VERSION ?? null, hits, database: process.env.DATABASE_URL ?? null };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
    } catch (err) {
      res.writeHead(503).end(`redis: ${err.message}\n`);
    }
  })
  .listen(Number(process.env.PORT ?? 8000), () => console.log(`rest-api ${process.env.APP_VERSION} listening on ${process.env.PORT ?? 8000}`));
