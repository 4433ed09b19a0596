/** StopguardFunction: how every stopguard Lambda function is built, bundled, logged and given a role. */
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type RecursiveLoop, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: entry points and the lockfile are resolved from here, not from the shell's cwd. */
import type { EgressNetwork } from './stopguard-egress.js';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * ESM output still meets CommonJS dependencies that call `require` (bybit-api, parts of the AWS SDK):
 * esbuild leaves those calls in place, and in an ES module `require` does not exist unless defined.
 */
const esmRequireShim =
  "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

export interface StopguardFunctionProps {
  /** The handler module, relative to the repository root (it exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly recursiveLoop?: RecursiveLoop;
  /** A VPC to run in (the worker with fixed egress); default none, Lambda's own networking. */
  readonly network?: EgressNetwork;
}

/**
 * One stopguard Lambda function: Node 22 on arm64, bundled locally by esbuild (never Docker), with its
 * own log group and its own role. The role starts empty: no managed policy, so every permission the
 * function holds is one the stack granted on purpose (`allow`), against named resources.
 */
export class StopguardFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: StopguardFunctionProps) {
    super(scope, id);

    // Created here rather than by Lambda on first write, so retention is ours and the group goes away with
    // the stack (the audit trail lives in DynamoDB, not in these logs).
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (stopguard)`,
    });
    // Instead of AWSLambdaBasicExecutionRole, whose log permissions cover every log group in the account.
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: `${projectRoot}${props.entry}`,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        // Stack traces point at the TypeScript source, not at the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
      },
      ...(props.recursiveLoop === undefined ? {} : { recursiveLoop: props.recursiveLoop }),
      ...(props.network === undefined
        ? {}
        : {
            vpc: props.network.vpc,
            vpcSubnets: props.network.vpcSubnets,
            securityGroups: [...props.network.securityGroups],
          }),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: esmRequireShim,
        minify: true,
        // esbuild's size report on every synth and test run is noise; warnings and errors still show.
        logLevel: LogLevel.WARNING,
        sourceMap: true,
        // Mappings are enough for stack traces; embedding the sources would only grow the package.
        sourcesContent: false,
        // The AWS SDK is bundled at the versions in the lockfile (the ones the tests ran against), not
        // taken from whatever the runtime ships that month.
        bundleAwsSDK: true,
        externalModules: [],
      },
    });

    const runtime =
      'Node 22 on purpose: the bundle is built for it (esbuild target node22), the cold-init figures in ' +
      'docs/BENCHMARKS.md are for it, and the tests run on Node 20.19+, a smaller step from 22 than from ' +
      '24. nodejs22.x is in Lambda standard support until Node 22 reaches end of life (April 2027); ' +
      'moving to nodejs24.x is a change of target to test and re-measure, not a lint fix.';
    Validations.of(this.function).acknowledge(
      { id: 'AwsSolutions-L1', reason: runtime },
      { id: 'Serverless-LambdaLatestVersion', reason: runtime },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray tracing is left off: PutTraceSegments and PutTelemetryRecords accept only Resource "*", ' +
          'which would be the one unscoped permission of these roles (test/infra/iam.test.ts forbids it). ' +
          'The structured logs and EMF metrics carry the account, snapshot and message ids instead.',
      },
    );
    if (props.network !== undefined) this.allowNetworkInterfaces();
  }

  /**
   * What Lambda needs to attach a function to a VPC (the actions of AWSLambdaVPCAccessExecutionRole,
   * which a role of our own does not get by itself). Lambda creates and removes the interfaces itself.
   */
  private allowNetworkInterfaces(): void {
    this.allow(
      new PolicyStatement({
        sid: 'AttachToVpc',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The EC2 network-interface actions Lambda uses to attach a function to its VPC: the Describe ones ' +
        'accept only Resource "*", and the interfaces do not exist before Lambda creates them. Only with ' +
        'fixed egress, and only the worker.',
    });
  }

  get grantPrincipal() {
    return this.role.grantPrincipal;
  }

  /** Adds one permission; each call site says why the function needs it. */
  allow(statement: PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}
