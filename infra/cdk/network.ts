// VPC for the functions that reach PostgreSQL: 2 AZs, one NAT gateway (egress to AWS APIs and MongoDB),
// gateway endpoints for S3 and DynamoDB (free, keep that traffic off the NAT), isolated subnets for Aurora.
import { FlowLogDestination, FlowLogTrafficType, GatewayVpcEndpointAwsService, IpAddresses, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Topology } from '../topology.ts';
import { logRetention } from './names.ts';

export class Network extends Construct {
  readonly vpc: Vpc;

  constructor(scope: Construct, id: string, props: { topology: Topology }) {
    super(scope, id);
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'data', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        S3: { service: GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    // Rejected traffic only: what explains a function that cannot reach the proxy (a security group or route
    // mistake), at next to no cost for an idle stage; accepted traffic would bill every NAT flow.
    this.vpc.addFlowLog('RejectedFlows', {
      destination: FlowLogDestination.toCloudWatchLogs(new LogGroup(this, 'RejectedFlowLogs', { retention: logRetention(props.topology) })),
      trafficType: FlowLogTrafficType.REJECT,
    });
  }
}
