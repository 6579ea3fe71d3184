import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DeleteSecretHandler } from './delete-secret.command';
import { ListSecretsHandler } from './list-secrets.query';
import { SecretKeyProvider } from './secret-key';
import { SecretsController } from './secrets.controller';
import { SecretsService } from './secrets.service';
import { StoreSecretHandler } from './store-secret.command';

/**
 * Organization secrets. Global so the runtime injects `SecretsService` (resolveSecrets)
 * without importing this module; `http: true` also serves `/api/secrets`.
 */
@Global()
@Module({})
export class SecretsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: SecretsModule,
      controllers: options.http ? [SecretsController] : [],
      providers: [SecretKeyProvider, SecretsService, ...(options.http ? [StoreSecretHandler, DeleteSecretHandler, ListSecretsHandler] : [])],
      exports: [SecretsService, SecretKeyProvider],
    };
  }
}
