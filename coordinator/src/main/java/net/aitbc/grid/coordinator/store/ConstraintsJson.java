package net.aitbc.grid.coordinator.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import net.aitbc.grid.v1.Constraints;

/** Constraints as stored: a JSON object with the proto's field names. */
public final class ConstraintsJson {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

  private ConstraintsJson() {}

  /** The JSON form; {@code {}} when nothing is constrained. */
  public static String toJson(Constraints constraints) {
    try {
      return PRINTER.print(constraints);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("constraints always print", e);
    }
  }

  /** Parses what {@link #toJson} wrote. */
  static Constraints fromJson(String json) {
    Constraints.Builder b = Constraints.newBuilder();
    try {
      PARSER.merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored constraints are not valid: " + json, e);
    }
    return b.build();
  }
}
