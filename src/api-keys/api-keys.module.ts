import { Module, type DynamicModule } from '@nestjs/common';
import { ApiKeysController } from './api-keys.controller';
import { CreateApiKeyHandler } from './create-api-key.command';
import { ListApiKeysHandler } from './list-api-keys.query';
import { RevokeApiKeyHandler } from './revoke-api-key.command';

/** API keys: events on the organization's stream, the `api_keys` read model, the hashes beside it. */
@Module({})
export class ApiKeysModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: ApiKeysModule,
      controllers: options.http ? [ApiKeysController] : [],
      providers: [CreateApiKeyHandler, RevokeApiKeyHandler, ListApiKeysHandler],
    };
  }
}
