package net.aitbc.grid.coordinator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.sql.Connection;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.junit.jupiter.api.Test;

/**
 * The tests need nothing but a JDK: with no server at the probed address (and no
 * AITBC_TEST_DB_URL), TestDatabase starts an embedded PostgreSQL once per JVM and works on it.
 * The machine's server is never stopped for this: the probe points at a closed port instead.
 */
class TestDatabaseIT {
  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void withNoServerAtTheProbedAddressTheTestsGetAWorkingEmbeddedOne() throws Exception {
    String probe = "127.0.0.1:" + closedPort();
    String server = TestDatabase.chooseServer(null, probe);
    assertThat(server).startsWith("jdbc:postgresql://").doesNotContain(probe);

    try (TestDatabase db = TestDatabase.createOn(server); Connection c = db.connect()) {
      DSLContext dsl = DSL.using(c, SQLDialect.POSTGRES);
      dsl.createTable("probe").column("x", SQLDataType.INTEGER).execute();
      dsl.insertInto(DSL.table(DSL.name("probe")), DSL.field(DSL.name("x"), Integer.class)).values(42).execute();
      assertThat(dsl.fetchValue(DSL.select(DSL.field(DSL.name("x"), Integer.class)).from(DSL.name("probe"))))
          .isEqualTo(42);
      // The embedded server is the one grid dev runs: PostgreSQL 18.
      String version = dsl.fetchValue(DSL.function(DSL.name("current_setting"), String.class, DSL.inline("server_version_num")));
      assertThat(Integer.parseInt(version)).isGreaterThanOrEqualTo(180000);
    }
    // Once per JVM: asking again gives the same server.
    assertThat(TestDatabase.chooseServer(null, "127.0.0.1:" + closedPort())).isEqualTo(server);
  }

  @Test
  void theEnvironmentsServerWinsAndAnAnsweringServerIsUsed() throws Exception {
    assertThat(TestDatabase.chooseServer("jdbc:postgresql://db.example:6543/postgres", "127.0.0.1:1"))
        .isEqualTo("jdbc:postgresql://db.example:6543/postgres");
    try (ServerSocket listening = new ServerSocket(0)) {
      assertThat(TestDatabase.chooseServer(null, "127.0.0.1:" + listening.getLocalPort()))
          .isEqualTo("jdbc:postgresql://127.0.0.1:" + listening.getLocalPort() + "/postgres?user=postgres");
    }
  }
}
