/** The cdk-nag packs the app runs on every synth. */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/**
 * The cdk-nag packs every synth runs: AWS Solutions and Serverless. A finding fails `cdk synth`; each
 * accepted one is acknowledged next to its resource in the construct, with the reason.
 */
export function addChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
