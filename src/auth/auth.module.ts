import { Module, type DynamicModule } from '@nestjs/common';
import { ApiKeyStrategy } from './api-key.strategy';
import { AuthController } from './auth.controller';
import { IdentityNotifications } from './identity-notifications';
import { SessionStrategy } from './session.strategy';
import { SignInHandler } from './sign-in.command';
import { SignUpHandler } from './sign-up.command';

/**
 * Users, sessions and the two passport strategies. The guard itself is registered as the
 * first APP_GUARD in `AppModule`; this module exports what it needs.
 */
@Module({})
export class AuthModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: AuthModule,
      controllers: options.http ? [AuthController] : [],
      // An API process keeps looked-up credentials in step with changes made anywhere.
      providers: [ApiKeyStrategy, SessionStrategy, SignUpHandler, SignInHandler, ...(options.http ? [IdentityNotifications] : [])],
      exports: [ApiKeyStrategy, SessionStrategy],
    };
  }
}
