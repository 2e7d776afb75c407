// Published ports (-p): a userland proxy in the container's supervisor, listening on the
// host's address and relaying each TCP connection (UDP datagram flow) to the container's
// address, as docker-proxy does. It works for 127.0.0.1 without touching the host's
// netfilter rules or route_localnet, and ends with the supervisor, so nothing is left
// behind when a monitor is killed.
import dgram from "node:dgram";
import net from "node:net";
import { RuntimeError } from "../errors.js";
import type { PortBinding } from "../containers/types.js";

export interface Published {
  close(): Promise<void>;
}

/** Open relayed connections, destroyed when the proxy closes (server.close waits for them otherwise). */
const connections = new Set<net.Socket>();

function listenTcp(p: PortBinding, target: string): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target, port: p.containerPort });
    connections.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      connections.delete(client);
      connections.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new RuntimeError(`cannot publish ${p.hostIp}:${p.hostPort}/tcp: ${e.code === "EADDRINUSE" ? "the port is already allocated" : e.message}`)));
    server.listen({ host: p.hostIp, port: p.hostPort }, () => resolve(server));
  });
}

function listenUdp(p: PortBinding, target: string): Promise<dgram.Socket> {
  const sock = dgram.createSocket(p.hostIp.includes(":") ? "udp6" : "udp4");
  const flows = new Map<string, dgram.Socket>();
  sock.on("message", (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let up = flows.get(key);
    if (!up) {
      up = dgram.createSocket("udp4");
      up.on("message", (reply) => sock.send(reply, from.port, from.address));
      up.on("error", () => {});
      flows.set(key, up);
    }
    up.send(msg, p.containerPort, target);
  });
  sock.on("close", () => flows.forEach((s) => s.close()));
  return new Promise((resolve, reject) => {
    sock.once("error", (e: NodeJS.ErrnoException) =>
      reject(new RuntimeError(`cannot publish ${p.hostIp}:${p.hostPort}/udp: ${e.code === "EADDRINUSE" ? "the port is already allocated" : e.message}`)));
    sock.bind(p.hostPort, p.hostIp, () => resolve(sock));
  });
}

export async function publishPorts(ports: PortBinding[], target: string): Promise<Published> {
  const open: (net.Server | dgram.Socket)[] = [];
  const close = async () => {
    for (const s of connections) s.destroy();
    await Promise.all(open.map((s) => new Promise<void>((r) => (s instanceof net.Server ? s.close(() => r()) : s.close(() => r())))));
  };
  try {
    for (const p of ports) open.push(p.protocol === "udp" ? await listenUdp(p, target) : await listenTcp(p, target));
  } catch (e) {
    await close();
    throw e;
  }
  return { close };
}
