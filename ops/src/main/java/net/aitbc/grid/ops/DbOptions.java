package net.aitbc.grid.ops;

import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Where the coordinator's PostgreSQL database is. */
final class DbOptions {
  @Option(names = "--db-url", defaultValue = "${env:AITBC_DB_URL}",
      description = "JDBC URL of the PostgreSQL database (env AITBC_DB_URL), "
          + "e.g. jdbc:postgresql://127.0.0.1:5432/grid")
  @Nullable String url;

  @Option(names = "--db-user", defaultValue = "${env:AITBC_DB_USER}", description = "database user (env AITBC_DB_USER)")
  @Nullable String user;

  @Option(names = "--db-password", defaultValue = "${env:AITBC_DB_PASSWORD}",
      description = "database password (env AITBC_DB_PASSWORD)")
  @Nullable String password;

  String requireUrl() {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("no database: pass --db-url or set AITBC_DB_URL");
    }
    return url;
  }
}
