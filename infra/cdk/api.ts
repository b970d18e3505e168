// HTTP API (API Gateway v2): one route per topology HTTP route, each to its function (payload format 2.0).
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_CORS, type Topology } from '../topology.ts';
import type { Functions } from './functions.ts';
import { logRetention, pascal } from './names.ts';

/** Stage-wide throttling defaults (requests per second, burst). */
export const API_THROTTLE = { rateLimit: 200, burstLimit: 400 } as const;

const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};

/** Every HTTP route of the given topology with its function; for the module's topology this is httpRoutes(). */
export function routesOf(topology: Topology): { method: string; path: string; fn: string }[] {
  return topology.functions.flatMap((f) =>
    f.triggers.flatMap((t) =>
      t.kind === 'http'
        ? t.routes.map((r) => {
            const [method = '', path = ''] = r.trim().split(/\s+/);
            return { method, path, fn: f.name };
          })
        : [],
    ),
  );
}

export class Api extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: { topology: Topology; functions: Functions }) {
    super(scope, id);
    const { topology, functions } = props;

    this.api = new HttpApi(this, 'HttpApi', {
      apiName: `${topology.app}-api`,
      description: 'Framewise HTTP API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.PATCH, CorsHttpMethod.DELETE, CorsHttpMethod.OPTIONS],
        allowHeaders: [...API_CORS.allowHeaders],
        exposeHeaders: [...API_CORS.exposeHeaders],
        maxAge: Duration.days(1),
      },
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: logRetention(topology) });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: API_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    // One integration per function. Its invoke permission covers the whole API rather than one permission
    // per route: catalog-api alone has ~80 routes, which would overflow the 20 KB Lambda resource policy.
    const integrations = new Map<string, HttpLambdaIntegration>();
    const integrationFor = (fnName: string): HttpLambdaIntegration => {
      let integration = integrations.get(fnName);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascal(fnName)}Integration`, functions.get(fnName).fn, { scopePermissionToRoute: false });
        integrations.set(fnName, integration);
      }
      return integration;
    };
    const methods = new Set<string>(Object.values(HttpMethod));
    for (const route of routesOf(topology)) {
      if (!methods.has(route.method)) throw new Error(`route ${route.method} ${route.path}: unknown HTTP method`);
      this.api.addRoutes({ path: route.path, methods: [route.method as HttpMethod], integration: integrationFor(route.fn) });
    }

    new CfnOutput(Stack.of(this), 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
  }
}
