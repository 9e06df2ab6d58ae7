// Mutual TLS between instances. The transport proves "holds a certificate
// signed by the cluster CA"; the certificate's common name says who:
//  - CN "host:port" (what `faros certs` issues): exactly that instance, which
//    must be a live member for its calls to be taken;
//  - any other CN (one shared Secret for every pod, e.g. CN "faros-peer"):
//    "some member of this cluster"; the addresses it names are then checked
//    against the membership only (PullSnapshot's requester).
import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { PeerTls } from '../config.js';

/** host:port with a host name or IPv4/[IPv6] literal; what members are named by. */
const ADDRESS = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** A valid host:port (port 1..65535), else undefined. */
export function parseAddress(s: unknown): string | undefined {
  if (typeof s !== 'string' || s.length > 261) return undefined;
  const m = ADDRESS.exec(s);
  if (!m) return undefined;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? s : undefined;
}

export interface PeerTlsPem {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export function readPeerTls(f: PeerTls): PeerTlsPem {
  return { ca: readFileSync(f.caFile), cert: readFileSync(f.certFile), key: readFileSync(f.keyFile) };
}

/** The peer listener: a client certificate signed by the cluster CA, or the handshake fails. */
export function peerServerCredentials(pem: PeerTlsPem): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(pem.ca, [{ cert_chain: pem.cert, private_key: pem.key }], true);
}

const commonName = (cert: PeerCertificate | undefined): string | undefined => {
  const cn = cert?.subject?.CN as string | string[] | undefined;
  return Array.isArray(cn) ? cn[0] : cn;
};

/** The instance a certificate names (its CN as host:port), or undefined for a shared cluster certificate. */
export function certificateAddress(cert: PeerCertificate | undefined): string | undefined {
  return parseAddress(commonName(cert));
}

/** How to reach one peer address: channel credentials and options for it. */
export type PeerCredentials = (address: string) => { creds: grpc.ChannelCredentials; options: grpc.ChannelOptions };

/** The TLS server name peers are dialed with (a peer may be dialed by IP, which SNI cannot carry). */
export const PEER_SERVER_NAME = 'faros-peer';

const hostOf = (address: string): string => address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');

/**
 * Calling other instances: our certificate, their CA. A per-instance
 * certificate must name the host we dialed; a shared one is checked by its
 * chain only (it names no instance).
 */
export function peerChannelCredentials(pem: PeerTlsPem): PeerCredentials {
  return (address) => {
    const host = hostOf(address);
    const creds = grpc.credentials.createSsl(pem.ca, pem.key, pem.cert, {
      checkServerIdentity: (_serverName, cert) => {
        const named = certificateAddress(cert);
        if (named === undefined || hostOf(named) === host) return undefined;
        return checkServerIdentity(host, cert) ?? undefined;
      },
    });
    return { creds, options: { 'grpc.ssl_target_name_override': PEER_SERVER_NAME } };
  };
}
