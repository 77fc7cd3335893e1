package net.aitbc.grid.coordinator.workflow;

/** A workflow definition or its inputs break a rule; {@link #field()} says where. */
public final class InvalidWorkflow extends RuntimeException {
  private final String field;

  /** {@code field} is a path such as {@code steps.summarise.payload.prompt}. */
  public InvalidWorkflow(String field, String message) {
    super(field + ": " + message, null, false, false);
    this.field = field;
  }

  /** Where in the definition (or inputs) the fault is. */
  public String field() {
    return field;
  }
}
