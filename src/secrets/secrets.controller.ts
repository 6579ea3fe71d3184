import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { FORBIDDEN_KEYS } from '../domain/resolver/forbidden-keys';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { DeleteSecretCommand } from './delete-secret.command';
import { ListSecretsQuery } from './list-secrets.query';
import { StoreSecretCommand } from './store-secret.command';

/** Names look like environment variables (`SLACK_BOT_TOKEN`), the way connectors declare them. */
const secretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'letters, digits and _, starting with a letter or _ (at most 128)')
  .refine((name) => !FORBIDDEN_KEYS.has(name), 'is a reserved name');
const storeBody = z.strictObject({ name: secretName, value: z.string().min(1).max(64 * 1024) });
const summary = z.object({ name: z.string(), createdAt: z.iso.datetime(), updatedAt: z.iso.datetime() });

/**
 * `/api/secrets`: values go in and never come out (no route returns, logs or records one).
 * POSTing an existing name replaces its value (201 again, `replaced: true`, `createdAt` kept).
 */
@Controller('api/secrets')
export class SecretsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @RequireRole('admin')
  @ApiRoute({
    summary: 'Store a secret (or replace its value); the value is encrypted and never returned',
    tags: ['secrets'],
    body: storeBody,
    responses: { 201: summary.extend({ replaced: z.boolean() }) },
  })
  async store(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Body() body: z.infer<typeof storeBody>) {
    return this.commands.execute(new StoreSecretCommand(principal.organizationId, body.name, body.value, meta));
  }

  @Get()
  @RequireRole('viewer')
  @ApiRoute({
    summary: "The organization's secret names (never values); one page, so `next` is always null",
    tags: ['secrets'],
    responses: { 200: z.object({ data: z.array(summary), next: z.null() }) },
  })
  async list(@CurrentPrincipal() principal: Principal) {
    return { data: await this.queries.execute(new ListSecretsQuery(principal.organizationId)), next: null };
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiRoute({ summary: 'Delete a secret; 404 when absent', tags: ['secrets'], responses: { 204: 'deleted' } })
  async remove(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('name') name: string): Promise<void> {
    await this.commands.execute(new DeleteSecretCommand(principal.organizationId, name, meta));
  }
}
