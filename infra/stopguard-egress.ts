/**
 * Optional fixed egress for the worker: a VPC whose private subnets reach the exchange through NAT
 * gateways with Elastic IPs. Bybit lets API keys without an IP binding expire and allows binding a key
 * to a list of addresses; with this, every request the worker signs leaves from the addresses in the
 * stack's `EgressAddresses` output. The scheduler and the register function never talk to the exchange
 * and stay outside the VPC. All workers then share those addresses and Bybit's per-address limit: set
 * `fleetRequestsPer5s` with it (docs/DEPLOY.md).
 */
import { CfnOutput, Fn, RemovalPolicy } from 'aws-cdk-lib';
import {
  type CfnEIP,
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  type IVpc,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface FixedEgressProps {
  /** One NAT gateway (and address) per availability zone used, 1 or 2. Default 1: cheapest, one AZ's fate. */
  readonly natGateways?: 1 | 2;
}

/** Where the worker runs when egress is fixed. */
export interface EgressNetwork {
  readonly vpc: IVpc;
  readonly vpcSubnets: SubnetSelection;
  readonly securityGroups: readonly SecurityGroup[];
}

export function createFixedEgress(scope: Construct, props: FixedEgressProps): EgressNetwork {
  const natGateways = props.natGateways ?? 1;
  const flowLogs = new LogGroup(scope, 'EgressFlowLogs', {
    retention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const vpc = new Vpc(scope, 'EgressVpc', {
    maxAzs: 2,
    natGateways,
    subnetConfiguration: [
      { name: 'nat', subnetType: SubnetType.PUBLIC, cidrMask: 28 },
      { name: 'workers', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
    ],
    // Rejected traffic only: what a misconfigured route or group looks like, at a fraction of the volume.
    flowLogs: {
      rejected: {
        trafficType: FlowLogTrafficType.REJECT,
        destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
      },
    },
  });
  // DynamoDB through a gateway endpoint: free, and the table's traffic does not pay NAT processing.
  vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB });
  const securityGroup = new SecurityGroup(scope, 'WorkerSecurityGroup', {
    vpc: vpc as unknown as IVpc,
    description: 'stopguard worker: outbound HTTPS to the exchange and AWS APIs, nothing inbound',
    allowAllOutbound: true,
  });
  const addresses = vpc.publicSubnets.flatMap((subnet) => {
    const eip = subnet.node.tryFindChild('EIP') as CfnEIP | undefined;
    return eip === undefined ? [] : [eip.attrPublicIp];
  });
  new CfnOutput(scope, 'EgressAddresses', {
    value: Fn.join(',', addresses),
    description: "The worker's only source addresses: bind each account's Bybit API key to them",
  });
  return {
    // aws-cdk-lib's Vpc has a `vpnGatewayId` getter of `string | undefined` where IVpc declares it
    // `vpnGatewayId?: string`: under exactOptionalPropertyTypes the class is not assignable to it.
    vpc: vpc as unknown as IVpc,
    vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [securityGroup],
  };
}
