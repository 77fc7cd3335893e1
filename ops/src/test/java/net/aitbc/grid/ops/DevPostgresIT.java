package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded PostgreSQL of grid dev: a start that cannot work says why, in PostgreSQL's words. */
class DevPostgresIT {
  @TempDir Path tmp;

  @Test
  void aDataDirectoryThatIsNotOneFailsAtOnceWithWhatPostgresSaid() throws Exception {
    Path notData = Files.createDirectories(tmp.resolve("photos"));
    Files.writeString(notData.resolve("holiday.jpg"), "not a database");
    DevGrid.Options options = new DevGrid.Options(null, null, null, notData, "k", 0, 0, -1, null, 1, null);

    long start = System.nanoTime();
    assertThatThrownBy(() -> DevGrid.start(options))
        .hasMessageContaining("cannot start the embedded PostgreSQL on " + notData)
        .hasMessageContaining("PostgreSQL said")
        .hasMessageContaining("exists but is not empty")
        .hasMessageNotContaining("Gave up waiting");
    assertThat((System.nanoTime() - start) / 1e9).as("seconds to fail").isLessThan(10);
    assertThat(notData.resolve("holiday.jpg")).hasContent("not a database");
  }

  @Test
  void aDataDirectoryInUseByARunningGridDevIsRefusedAndKeepsServing() throws Exception {
    Path data = tmp.resolve("data");
    try (DevPostgres first = DevPostgres.start(data, true)) {
      assertThatThrownBy(() -> DevPostgres.start(data, true))
          .hasMessageContaining("in use by another running grid dev")
          .hasMessageContaining("its PostgreSQL is pid");
      try (Connection c = DriverManager.getConnection(first.jdbcUrl())) {
        assertThat(DevGridIT.setting(DSL.using(c, SQLDialect.POSTGRES), "synchronous_commit")).isEqualTo("on");
      }
    }
    assertThat(data.resolve("postmaster.pid")).as("a stopped server leaves no postmaster.pid").doesNotExist();
  }
}
