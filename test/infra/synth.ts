/** Test helpers: synthesize the stack as `cdk synth` would, and read IAM statements out of it. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { StopguardProps } from '#infra/stopguard-props.js';
import { StopguardStack } from '#infra/stopguard-stack.js';

/** cdk.json's context (feature flags, defaults): the tests synthesize what `cdk synth` does. */
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

export interface Synthesized {
  readonly stack: StopguardStack;
  readonly template: Template;
  readonly assembly: CloudAssembly;
}

/**
 * Synthesizes the stack. `bundle: false` skips esbuild (CDK's `aws:cdk:bundling-stacks` context) for
 * tests that only read the template; bundling costs seconds per function, so each file does it once.
 */
export function synthesize(options: { bundle: boolean; props?: StopguardProps }): Synthesized {
  const app = testApp(options);
  const stack = new StopguardStack(app, 'StopguardTest', options.props ? { stopguard: options.props } : {});
  const template = Template.fromStack(stack);
  return { stack, template, assembly: app.synth() };
}

const outdirs: string[] = [];

/** An app with cdk.json's context, synthesizing into a temporary directory that `removeAssemblies` deletes. */
export function testApp(options: { bundle: boolean }): App {
  const outdir = mkdtempSync(join(tmpdir(), 'stopguard-infra-test-'));
  outdirs.push(outdir);
  return new App({
    outdir,
    context: { ...cdkJson.context, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
}

/** Removes the cloud assemblies (bundles included) this test file synthesized: call from `afterAll`. */
export function removeAssemblies(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The CloudFormation logical id of a construct's default resource. */
export function logicalId(stack: StopguardStack, construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild;
  if (child === undefined) throw new Error('construct has no default child');
  return stack.getLogicalId(child as Parameters<StopguardStack['getLogicalId']>[0]);
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement of every identity policy attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const statements: Statement[] = [];
  const role = template.findResources('AWS::IAM::Role')[roleLogicalId];
  if (role === undefined) throw new Error(`no role ${roleLogicalId}`);
  for (const inline of (role.Properties?.Policies ?? []) as {
    PolicyDocument: { Statement: Statement[] };
  }[]) {
    statements.push(...inline.PolicyDocument.Statement);
  }
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles ?? []) as { Ref?: string }[];
    if (roles.some((r) => r.Ref === roleLogicalId))
      statements.push(...policy.Properties.PolicyDocument.Statement);
  }
  return statements;
}

export const actionsOf = (statements: readonly Statement[]): string[] =>
  statements.flatMap((s) => asList(s.Action));
