import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addChecks } from '#infra/checks.js';
import { StopguardStack } from '#infra/stopguard-stack.js';
import { logicalId, removeAssemblies, type Synthesized, synthesize, testApp } from './synth.js';

let synth: Synthesized;
let template: Template;

beforeAll(() => {
  synth = synthesize({ bundle: false, props: { fixedEgress: { natGateways: 2 }, fleetRequestsPer5s: 500 } });
  template = synth.template;
});
afterAll(removeAssemblies);

const vpcConfigOf = (fn: { function: { node: { defaultChild?: unknown } } }) =>
  template.findResources('AWS::Lambda::Function')[logicalId(synth.stack, fn.function)]?.Properties.VpcConfig;

describe('fixed egress', () => {
  it('gives the worker NAT gateways with Elastic IPs and outputs their addresses for key binding', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.resourceCountIs('AWS::EC2::EIP', 2);
    const outputs = template.findOutputs('*');
    const egress = Object.entries(outputs).find(([id]) => id.includes('EgressAddresses'));
    expect(JSON.stringify(egress?.[1].Value)).toMatch(/PublicIp/);
  });

  it('puts only the worker in the VPC, in its private subnets; the scheduler and register never call the exchange', () => {
    const stopguard = synth.stack.stopguard;
    expect(vpcConfigOf(stopguard.worker)).toMatchObject({
      SubnetIds: expect.any(Array),
      SecurityGroupIds: expect.any(Array),
    });
    expect(vpcConfigOf(stopguard.scheduler)).toBeUndefined();
    expect(vpcConfigOf(stopguard.register)).toBeUndefined();
    // DynamoDB through a free gateway endpoint rather than the NAT gateways.
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.dynamodb'])]) }),
      VpcEndpointType: 'Gateway',
    });
  });

  it('lets only the worker manage the network interfaces Lambda attaches it to the VPC with', () => {
    const statements = (role: { node: { defaultChild?: unknown } }) =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(logicalId(synth.stack, role)))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Action: string[] }[]);
    const stopguard = synth.stack.stopguard;
    expect(statements(stopguard.worker.role).find((s) => s.Sid === 'AttachToVpc')?.Action).toContain(
      'ec2:CreateNetworkInterface',
    );
    for (const fn of [stopguard.scheduler, stopguard.register])
      expect(statements(fn.role).some((s) => s.Sid === 'AttachToVpc')).toBe(false);
  });

  it('sets the fleet budget the shared addresses need, and says they are shared', () => {
    const env =
      template.findResources('AWS::Lambda::Function')[
        logicalId(synth.stack, synth.stack.stopguard.worker.function)
      ]?.Properties.Environment.Variables;
    expect(env.STOPGUARD_FLEET_REQUESTS_PER5S).toBe('500');
    // Every worker shares the gateways' addresses: a ban of one is a ban of all.
    expect(env.STOPGUARD_SHARED_EGRESS).toBe('true');
  });

  it('logs rejected traffic and passes cdk-nag', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
    const app = testApp({ bundle: false });
    new StopguardStack(app, 'Stopguard', { stopguard: { fixedEgress: {} } });
    addChecks(app);
    expect(() => app.synth()).not.toThrow();
  });
});
