package net.aitbc.grid.ops;

import io.grpc.StatusRuntimeException;
import java.util.Locale;
import java.util.concurrent.Callable;
import net.aitbc.grid.v1.AccountBalance;
import net.aitbc.grid.v1.DepositResponse;
import net.aitbc.grid.v1.GetBalanceResponse;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code grid accounts}: clients' money, through the coordinator's PaymentService with an admin key. */
@Command(name = "accounts", mixinStandardHelpOptions = true,
    description = "Deposits into a client's account, sets its credit limit and reads its balances (an admin key, over "
        + "gRPC).",
    subcommands = {AccountsCommand.Deposit.class, AccountsCommand.CreditLimit.class, AccountsCommand.Balance.class})
final class AccountsCommand {
  private AccountsCommand() {}

  /** Where the coordinator is and the admin key to use. */
  static final class Target {
    @Option(names = "--coordinator", defaultValue = "${env:AITBC_COORDINATOR:-127.0.0.1:9090}",
        description = "the coordinator's gRPC address: host:port, replicas as host1:port,host2:port (tried in order), "
            + "or dns:///name:port (env AITBC_COORDINATOR; default ${DEFAULT-VALUE})")
    String coordinator;

    @picocli.CommandLine.Mixin TlsOptions.Client tls = new TlsOptions.Client();

    @Option(names = "--api-key", defaultValue = "${env:AITBC_ADMIN_KEY}",
        description = "an admin API key (env AITBC_ADMIN_KEY); make one with `grid keys create --role admin`")
    @Nullable String apiKey;

    Accounts connect() {
      if (apiKey == null || apiKey.isBlank()) {
        throw new IllegalArgumentException("an admin key is needed: --api-key or AITBC_ADMIN_KEY");
      }
      return new Accounts(coordinator, tls.clientTls(), apiKey.strip());
    }
  }

  @Command(name = "deposit", mixinStandardHelpOptions = true,
      description = "Credits a client's account and prints its balance afterwards.")
  static final class Deposit implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin Target target;

    @Option(names = "--client-id", required = true, description = "the client whose account is credited")
    String clientId;

    @Option(names = "--amount", required = true, description = "more than 0, at most 1000000000, 8 decimals at most")
    String amount;

    @Option(names = "--currency", defaultValue = "AITBC", description = "AITBC, BTC, ETH or USDT (default ${DEFAULT-VALUE})")
    String currency;

    @Option(names = "--idempotency-key",
        description = "the same key again moves nothing (safe to retry); without one, each run deposits")
    @Nullable String idempotencyKey;

    @Override
    public Integer call() {
      try (Accounts accounts = target.connect()) {
        DepositResponse r = accounts.deposit(clientId, amount, currency, idempotencyKey);
        spec.commandLine().getOut().println((r.getRepeated() ? "already deposited (nothing moved): " : "deposited: ")
            + amount + " " + currency.toUpperCase(Locale.ROOT) + " to " + clientId + "; balance " + r.getBalance()
            + "; transfer " + r.getTransferId());
        return 0;
      } catch (StatusRuntimeException e) {
        spec.commandLine().getErr().println("deposit refused: " + e.getStatus().getCode() + ": "
            + e.getStatus().getDescription());
        return 1;
      }
    }
  }

  @Command(name = "credit-limit", mixinStandardHelpOptions = true,
      description = "Lets a client's balance go below zero, down to minus the limit (0 restores the default).")
  static final class CreditLimit implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin Target target;

    @Option(names = "--client-id", required = true, description = "the client whose account it is")
    String clientId;

    @Option(names = "--limit", required = true, description = "0 to 1000000000, 8 decimals at most")
    String limit;

    @Option(names = "--currency", defaultValue = "AITBC", description = "AITBC, BTC, ETH or USDT (default ${DEFAULT-VALUE})")
    String currency;

    @Override
    public Integer call() {
      try (Accounts accounts = target.connect()) {
        AccountBalance a = accounts.setCreditLimit(clientId, limit, currency).getAccount();
        spec.commandLine().getOut().println("credit limit of " + clientId + ": " + a.getCreditLimit() + " "
            + a.getCurrency() + "; balance " + a.getBalance());
        return 0;
      } catch (StatusRuntimeException e) {
        spec.commandLine().getErr().println("credit limit refused: " + e.getStatus().getCode() + ": "
            + e.getStatus().getDescription());
        return 1;
      }
    }
  }

  @Command(name = "balance", mixinStandardHelpOptions = true, description = "Prints a client's balances.")
  static final class Balance implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin Target target;

    @Option(names = "--client-id", required = true, description = "the client whose accounts to show")
    String clientId;

    @Override
    public Integer call() {
      try (Accounts accounts = target.connect()) {
        GetBalanceResponse r = accounts.balance(clientId);
        var out = spec.commandLine().getOut();
        out.printf("%-14s %-8s %20s %16s%n", "ACCOUNT", "CURRENCY", "BALANCE", "CREDIT LIMIT");
        for (AccountBalance b : r.getBalancesList()) {
          out.printf("%-14s %-8s %20s %16s%n", kind(b), b.getCurrency(), b.getBalance(),
              b.getCreditLimit().isEmpty() ? "0" : b.getCreditLimit());
        }
        if (r.getBalancesCount() == 0) {
          out.println("(no accounts yet: " + clientId + " has never been paid or credited)");
        }
        return 0;
      } catch (StatusRuntimeException e) {
        spec.commandLine().getErr().println("balance refused: " + e.getStatus().getCode() + ": "
            + e.getStatus().getDescription());
        return 1;
      }
    }

    private static String kind(AccountBalance b) {
      return switch (b.getKind()) {
        case ACCOUNT_KIND_CLIENT -> "client";
        case ACCOUNT_KIND_WORKER_OWNER -> "worker_owner";
        default -> "other";
      };
    }
  }
}
