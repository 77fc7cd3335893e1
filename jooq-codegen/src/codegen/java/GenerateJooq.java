import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.jooq.codegen.GenerationTool;
import org.jooq.meta.jaxb.Configuration;
import org.jooq.meta.jaxb.Database;
import org.jooq.meta.jaxb.Generate;
import org.jooq.meta.jaxb.Generator;
import org.jooq.meta.jaxb.Jdbc;
import org.jooq.meta.jaxb.Logging;
import org.jooq.meta.jaxb.Target;

/**
 * Generates the jOOQ classes from the Flyway migrations: starts an embedded PostgreSQL, migrates
 * it, and runs jOOQ's generator against it. Skips all of that when the migrations have not changed
 * since the last run. Usage: {@code java GenerateJooq.java <migration dir> <output dir>}.
 */
public final class GenerateJooq {
  public static void main(String[] args) throws Exception {
    Path migrations = Path.of(args[0]);
    Path output = Path.of(args[1]);
    Path stamp = output.resolve(".migrations.sha256");
    String digest = digest(migrations);
    if (Files.exists(stamp) && Files.readString(stamp).equals(digest)) {
      System.out.println("jOOQ classes are up to date with " + migrations);
      return;
    }
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      Flyway.configure()
          .dataSource(url, "postgres", null)
          .locations("filesystem:" + migrations.toAbsolutePath())
          .load()
          .migrate();
      GenerationTool.generate(new Configuration()
          .withLogging(Logging.WARN)
          .withJdbc(new Jdbc().withDriver("org.postgresql.Driver").withUrl(url).withUser("postgres"))
          .withGenerator(new Generator()
              .withDatabase(new Database()
                  .withName("org.jooq.meta.postgres.PostgresDatabase")
                  .withInputSchema("public")
                  .withOutputSchemaToDefault(true)
                  .withExcludes("flyway_schema_history"))
              .withGenerate(new Generate()
                  .withJavaTimeTypes(true)
                  .withRecords(true)
                  .withPojos(false)
                  .withDaos(false)
                  .withGeneratedAnnotation(false))
              .withTarget(new Target()
                  .withPackageName("net.aitbc.grid.db")
                  .withDirectory(output.toString()))));
    }
    Files.writeString(stamp, digest);
    System.out.println("Generated jOOQ classes into " + output);
  }

  private static String digest(Path dir) throws IOException, Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    for (Path f : files) {
      sha.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
      sha.update(Files.readAllBytes(f));
    }
    return HexFormat.of().formatHex(sha.digest());
  }
}
