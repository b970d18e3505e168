// HTTP API (API Gateway v2): one route per topology HTTP route, each to its function (payload format 2.0).
import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination, type IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_CORS, httpRoutes } from '../topology.ts';
import type { Functions } from './functions.ts';
import { logRetention, pascal, physicalName, type Deployment } from './names.ts';

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

export class Api extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: { deployment: Deployment }) {
    super(scope, id);
    const { deployment } = props;
    const { topology } = deployment;

    this.api = new HttpApi(this, 'HttpApi', {
      apiName: physicalName(deployment, 'api'),
      description: `Framewise HTTP API (${deployment.stage})`,
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
    // Auto-deployed: a route that a context stack adds is served as soon as that stack is deployed.
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
    new CfnOutput(Stack.of(this), 'ApiUrl', { value: this.stage.url, description: 'Base URL of the HTTP API' });
  }
}

/** The routes of one context's functions, on the foundation's HTTP API. */
export class ApiRoutes extends Construct {
  constructor(scope: Construct, id: string, props: { api: IHttpApi; functions: Functions }) {
    super(scope, id);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'every route but GET /v1/openapi.json checks its Bearer API key in the function (a SHA-256 hash looked up in PostgreSQL, with the key\'s role and client scope); an API Gateway authorizer would add a second invocation per request',
    });
    const methods = new Set<string>(Object.values(HttpMethod));
    for (const { def, fn } of props.functions.byName.values()) {
      const routes = httpRoutes([def]);
      if (routes.length === 0) continue;
      // One integration per function. Its invoke permission covers the whole API rather than one permission
      // per route: catalog-api alone has ~80 routes, which would overflow the 20 KB Lambda resource policy.
      const integration = new HttpLambdaIntegration(`${pascal(def.name)}Integration`, fn, { scopePermissionToRoute: false });
      for (const route of routes) {
        if (!methods.has(route.method)) throw new Error(`route ${route.method} ${route.path}: unknown HTTP method`);
        new HttpRoute(this, `${route.method}${pascal(route.path.replace(/[{}]/g, ''))}`, {
          httpApi: props.api,
          routeKey: HttpRouteKey.with(route.path, route.method as HttpMethod),
          integration,
        });
      }
    }
  }
}
