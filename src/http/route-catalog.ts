import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { NO_RATE_LIMIT } from '../rate-limit/rate-limit.decorators';
import { API_ROUTE, ApiRouteSpec, PUBLIC_ROUTE } from './api-route.decorator';

export interface RouteInfo {
  method: string;
  /** Nest/Fastify form, e.g. `/api/workflows/:id`. */
  path: string;
  public: boolean;
  /** False for routes exempt from every rate-limit budget (`@NoRateLimit()`). */
  rateLimited: boolean;
  spec: ApiRouteSpec | undefined;
}

/**
 * Every route the application registers, read from the controllers' metadata. OpenAPI and the
 * route-matrix tests both enumerate this, so a new route is documented and tested without
 * anyone remembering to add it.
 */
export function listRoutes(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const wrapper of discovery.getControllers()) {
    const instance = wrapper.instance as object | undefined;
    if (!instance || !wrapper.metatype) continue;
    const base = normalise(Reflect.getMetadata(PATH_METADATA, wrapper.metatype));
    const classPublic = reflector.get<boolean>(PUBLIC_ROUTE, wrapper.metatype) === true;
    const classUnlimited = reflector.get<boolean>(NO_RATE_LIMIT, wrapper.metatype) === true;
    const prototype = Object.getPrototypeOf(instance);
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (method === undefined || path === undefined) continue;
      for (const p of Array.isArray(path) ? path : [path]) {
        routes.push({
          method: RequestMethod[method],
          path: `${base}${normalise(p)}` || '/',
          public: classPublic || reflector.get<boolean>(PUBLIC_ROUTE, handler) === true,
          rateLimited: !(classUnlimited || reflector.get<boolean>(NO_RATE_LIMIT, handler) === true),
          spec: reflector.get<ApiRouteSpec>(API_ROUTE, handler),
        });
      }
    }
  }
  return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

function normalise(path: string | string[] | undefined): string {
  const p = (Array.isArray(path) ? path[0] : path) ?? '';
  const trimmed = p.replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}` : '';
}
