/** Stopguard props: how each reaches the template, and which values fail synth. */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { envName } from '#contracts/settings.js';
import { EnvVar } from '#handlers/environment.js';
import { Stopguard } from '#infra/stopguard-construct.js';
import { removeAssemblies, synthesize, testApp } from './synth.js';

// Variants of the props; none needs the bundle.
afterAll(removeAssemblies);

describe('Stopguard props', () => {
  it('turns shadow off, subscribes the alarm e-mail and passes settings through, validated', () => {
    const { template, stack } = synthesize({
      bundle: false,
      props: {
        shadow: false,
        alarmEmail: 'ops@example.com',
        cadence: Duration.seconds(15),
        capPerAccount: 3,
        claimLease: Duration.minutes(2),
        settings: { evidenceGraceMs: 300_000 },
        logLevel: 'DEBUG',
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    const workerId = stack.getLogicalId(stack.stopguard.worker.function.node.defaultChild as never);
    const env = template.findResources('AWS::Lambda::Function')[workerId]?.Properties.Environment.Variables;
    expect(env).toMatchObject({
      [envName('shadow')]: 'false',
      [envName('cadenceMs')]: '15000',
      [envName('capPerAccount')]: '3',
      [envName('claimLeaseMs')]: '120000',
      [envName('evidenceGraceMs')]: '300000',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    });
    // A longer lease stretches the visibility timeout with it.
    const queueId = stack.getLogicalId(stack.stopguard.queue.node.defaultChild as never);
    const visibility = template.findResources('AWS::SQS::Queue')[queueId]?.Properties.VisibilityTimeout;
    expect(visibility).toBeGreaterThanOrEqual(30 + 120);
  });

  it('refuses settings the functions would refuse, at synth time', () => {
    expect(() => synthesize({ bundle: false, props: { cadence: Duration.seconds(7) } })).toThrow(/cadenceMs/);
    expect(() => synthesize({ bundle: false, props: { secretPrefix: '*' } })).toThrow(/secretPrefix/);
    // Without the '/', "stopguard*" would also cover the secrets of a stack named "stopguard-other".
    expect(() => synthesize({ bundle: false, props: { secretPrefix: 'stopguard' } })).toThrow(
      /secretPrefix must be a literal prefix ending with '\/'/,
    );
    expect(() => synthesize({ bundle: false, props: { secretPrefix: '/' } })).toThrow(/secretPrefix/);
    expect(() => synthesize({ bundle: false, props: { secretPrefix: 'keys/*/' } })).toThrow(/secretPrefix/);
    // A lease the worker could outlive would let a redelivery retake a running confirmation.
    expect(() => synthesize({ bundle: false, props: { claimLease: Duration.seconds(20) } })).toThrow(
      /claimLease .* must outlast a worker invocation/,
    );
  });

  it('lets the worker alone reach extra exchange origins, when named', () => {
    const { template, stack } = synthesize({
      bundle: false,
      props: {
        extraExchangeOrigins: ['http://10.0.0.5:4010', 'https://bybit-stand-in.internal/'],
        bybitBaseUrl: 'http://10.0.0.5:4010',
        secretPrefix: 'stopguard/test/',
      },
    });
    const env = (fn: { function: { node: { defaultChild?: unknown } } }) =>
      template.findResources('AWS::Lambda::Function')[
        stack.getLogicalId(fn.function.node.defaultChild as never)
      ]?.Properties.Environment.Variables;
    const { worker, scheduler, register } = stack.stopguard;
    expect(env(worker)).toMatchObject({
      [EnvVar.extraExchangeOrigins]: 'http://10.0.0.5:4010,https://bybit-stand-in.internal',
      [EnvVar.bybitBaseUrl]: 'http://10.0.0.5:4010',
      [EnvVar.secretPrefix]: 'stopguard/test/',
    });
    expect(env(scheduler)).not.toHaveProperty(EnvVar.extraExchangeOrigins);
    expect(env(register)).not.toHaveProperty(EnvVar.extraExchangeOrigins);
  });

  it('refuses an exchange endpoint the worker would refuse, at synth time', () => {
    const refused = (props: Parameters<typeof synthesize>[0]['props']) => () =>
      synthesize({ bundle: false, ...(props === undefined ? {} : { props }) });
    expect(refused({ bybitBaseUrl: 'https://api.bybit.example.com' })).toThrow(
      /bybitBaseUrl: .*not one of Bybit's/,
    );
    expect(refused({ bybitBaseUrl: 'http://10.0.0.5:4010' })).toThrow(/bybitBaseUrl: .*not https/);
    expect(refused({ extraExchangeOrigins: ['http://10.0.0.5:4010/v5'] })).toThrow(/bare http\(s\) origin/);
    expect(refused({ extraExchangeOrigins: ['ftp://10.0.0.5'] })).toThrow(/bare http\(s\) origin/);
    expect(refused({ extraExchangeOrigins: ['10.0.0.5:4010'] })).toThrow(/extraExchangeOrigins/);
    expect(refused({ bybitBaseUrl: 'https://api-testnet.bybit.com' })).not.toThrow();
  });

  it('is a construct an existing stack can embed', () => {
    const app = testApp({ bundle: false });
    const host = new Stack(app, 'Host');
    new Stopguard(host, 'Guard', { shadow: true });
    Template.fromStack(host).resourceCountIs('AWS::Lambda::Function', 4);
  });
});
