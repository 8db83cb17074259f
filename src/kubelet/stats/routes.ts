/**
 * @module The kubelet's stats and metrics endpoints on its HTTPS server: /stats/summary
 * (Summary API JSON), /metrics/resource (what metrics-server scrapes), /metrics/cadvisor
 * (container_* series) and /metrics (kubelet_*). One server may front several hollow
 * nodes: `?node=NAME` picks one (a single node's kubelet ignores a missing parameter).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderCadvisorMetrics, renderResourceMetrics, summaryOf, textContentType } from '../../metrics/index.js';
import type { NodeStatsCollector } from './collector.js';

/** A route of the kubelet server: true when it answered. */
export type KubeletRouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

const paths = new Set(['/stats/summary', '/stats/summary/', '/metrics', '/metrics/resource', '/metrics/cadvisor']);

/** The stats routes over the collectors this server fronts (by node name). */
export function statsRoutes(collectors: () => Map<string, NodeStatsCollector>, log?: (msg: Record<string, unknown>) => void): KubeletRouteHandler {
  return async (req, res, url) => {
    if (!paths.has(url.pathname)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${req.method} not allowed`);
      return true;
    }
    const all = collectors();
    const wanted = url.searchParams.get('node');
    const collector = wanted ? all.get(wanted) : all.size === 1 ? [...all.values()][0] : undefined;
    if (!collector) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(wanted ? `node "${wanted}" is not served here` : 'this server fronts several nodes: add ?node=NAME');
      return true;
    }
    try {
      let body: string;
      let type = textContentType;
      if (url.pathname.startsWith('/stats/summary')) {
        body = JSON.stringify(summaryOf(await collector.collect()), null, 2);
        type = 'application/json';
      } else if (url.pathname === '/metrics/resource') body = renderResourceMetrics(await collector.collect());
      else if (url.pathname === '/metrics/cadvisor') body = renderCadvisorMetrics(await collector.collect(), collector.machine);
      else {
        // kubelet_* gauges reflect this instant; the collection also observes pod starts.
        await collector.collect();
        body = collector.kubeletMetrics.render(await collector.kubeletState());
      }
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      log?.({ level: 'warn', msg: 'stats collection failed', node: collector.nodeName, error: String(err) });
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`failed to get node stats: ${err instanceof Error ? err.message : String(err)}`);
    }
    return true;
  };
}
