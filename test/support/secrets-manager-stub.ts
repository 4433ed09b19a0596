import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Secrets Manager stand-in on 127.0.0.1 for the real SDK client: CreateSecret (refusing an existing
 * name as AWS does, with ResourceExistsException), PutSecretValue and GetSecretValue, in the JSON 1.1
 * protocol. Enough to test what writes an account's keys; it checks no signature.
 */
export interface SecretsManagerStub {
  readonly endpoint: string;
  readonly secrets: Map<string, string>;
  readonly calls: string[];
  close(): Promise<void>;
}

export async function startSecretsManagerStub(): Promise<SecretsManagerStub> {
  const secrets = new Map<string, string>();
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const action = String(req.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
      calls.push(action);
      const input = JSON.parse(body || '{}') as { Name?: string; SecretId?: string; SecretString?: string };
      const reply = (status: number, json: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      const id = input.Name ?? input.SecretId ?? '';
      const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${id}-AbCdEf`;
      if (action === 'CreateSecret') {
        if (secrets.has(id))
          return reply(400, { __type: 'ResourceExistsException', message: `${id} exists` });
        secrets.set(id, input.SecretString ?? '');
        return reply(200, { ARN: arn, Name: id, VersionId: 'v1' });
      }
      if (action === 'PutSecretValue') {
        if (!secrets.has(id))
          return reply(400, { __type: 'ResourceNotFoundException', message: `${id} not found` });
        secrets.set(id, input.SecretString ?? '');
        return reply(200, { ARN: arn, Name: id, VersionId: 'v2' });
      }
      if (action === 'GetSecretValue') {
        const value = secrets.get(id);
        if (value === undefined)
          return reply(400, { __type: 'ResourceNotFoundException', message: `${id} not found` });
        return reply(200, { ARN: arn, Name: id, SecretString: value });
      }
      return reply(400, { __type: 'UnknownOperationException', message: action });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    secrets,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
