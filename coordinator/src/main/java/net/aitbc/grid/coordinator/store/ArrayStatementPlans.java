package net.aitbc.grid.coordinator.store;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.jooq.ExecuteContext;
import org.jooq.ExecuteListener;
import org.jooq.exception.DataAccessException;
import org.postgresql.PGStatement;

/**
 * Has PostgreSQL plan every statement that binds an array (a batch's rows through {@link Columns},
 * the keys of an {@code = any(?)}) for each execution, knowing the array's length and the tables'
 * sizes. The driver otherwise prepares a statement on the server after five executions, and
 * PostgreSQL then keeps one generic plan for the connection's life, made for arrays of ten and the
 * tables as they were then: plans made while a new database was nearly empty scanned whole tables
 * in every batch for the rest of a run (autovacuum's ANALYZE would have replaced them; with it off,
 * nothing did). Single-row statements keep their prepared plans.
 */
final class ArrayStatementPlans implements ExecuteListener {
  @Override
  public void prepareEnd(ExecuteContext ctx) {
    PreparedStatement statement = ctx.statement();
    String sql = ctx.sql();
    // jOOQ renders every array bind as "cast(? as type[])".
    if (statement == null || sql == null || !sql.contains("[])")) {
      return;
    }
    try {
      statement.unwrap(PGStatement.class).setPrepareThreshold(0);
    } catch (SQLException e) {
      throw new DataAccessException("cannot plan an array statement per execution", e);
    }
  }
}
