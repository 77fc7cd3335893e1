package net.aitbc.grid.coordinator.store;

import static org.jooq.impl.DSL.function;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.val;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jooq.DataType;
import org.jooq.Field;
import org.jooq.Name;

/**
 * Batches as column arrays: {@code SELECT unnest(a), unnest(b), …} walks the arrays in step, one row
 * per index, so a batch of any size is one statement of one shape, which PostgreSQL plans for each
 * execution with the batch's real size ({@link ArrayStatementPlans}).
 */
final class Columns {
  private static final Name UNNEST = name("unnest");

  private final Map<Field<?>, DataType<?>> arrayTypes = new ConcurrentHashMap<>();

  /** {@code unnest(values)} as a column of {@code like}'s type: one row per element. */
  <T> Field<T> each(T[] values, Field<T> like) {
    return function(UNNEST, like.getDataType(), val(values, arrayType(like)));
  }

  @SuppressWarnings("unchecked")
  private <T> DataType<T[]> arrayType(Field<T> of) {
    // Array types are built once: making them is a visible share of a batch's cost.
    return (DataType<T[]>) arrayTypes.computeIfAbsent(of, f -> f.getDataType().array());
  }
}
