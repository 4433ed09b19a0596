/**
 * How the construct accepts a cdk-nag finding, without depending on cdk-nag: the packs (`checks.ts`)
 * read these acknowledgments from CDK's own `Validations` metadata.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Accepts a cdk-nag finding on `scope` and everything under it. Each call site says why. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
