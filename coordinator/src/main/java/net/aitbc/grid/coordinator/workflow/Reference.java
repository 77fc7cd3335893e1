package net.aitbc.grid.coordinator.workflow;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One {@code {{...}}} reference in a template: to the execution's inputs ({@code inputs.text}), to
 * an earlier step's result ({@code steps.summarise.result.output}), or, inside a for_each step, to
 * the item ({@code item}, {@code item.url}) and its position ({@code index}). A path after the root
 * walks object fields and list positions ({@code steps.split.result.parts.0}).
 *
 * @param root what it starts from
 * @param step the step named, for {@link Root#STEP}
 * @param path the fields and positions after the root
 * @param text the reference as written, without its braces
 */
public record Reference(Root root, @Nullable String step, List<String> path, String text) {
  /** What a reference starts from. */
  public enum Root { INPUTS, STEP, ITEM, INDEX }

  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  /** Reads the text between the braces, or throws {@link InvalidWorkflow} for {@code field}. */
  static Reference parse(String inner, String field) {
    String text = inner.strip();
    String[] parts = text.split("\\.", -1);
    for (String p : parts) {
      if (!SEGMENT.matcher(p).matches()) {
        throw new InvalidWorkflow(field, "{{" + text + "}} is not a reference: use inputs.NAME, steps.STEP.result, "
            + "item or index, with fields and list positions after a dot");
      }
    }
    List<String> rest = new ArrayList<>(List.of(parts).subList(1, parts.length));
    return switch (parts[0]) {
      case "inputs" -> new Reference(Root.INPUTS, null, List.copyOf(rest), text);
      case "item" -> new Reference(Root.ITEM, null, List.copyOf(rest), text);
      case "index" -> {
        if (!rest.isEmpty()) {
          throw new InvalidWorkflow(field, "{{" + text + "}}: index is a number and has no fields");
        }
        yield new Reference(Root.INDEX, null, List.of(), text);
      }
      case "steps" -> {
        if (rest.size() < 2 || !rest.get(1).equals("result")) {
          throw new InvalidWorkflow(field, "{{" + text + "}}: a step is referred to as steps.STEP.result, "
              + "optionally followed by fields");
        }
        yield new Reference(Root.STEP, rest.get(0), List.copyOf(rest.subList(2, rest.size())), text);
      }
      default -> throw new InvalidWorkflow(field, "{{" + text + "}} starts with '" + parts[0]
          + "': a reference starts with inputs, steps, item or index");
    };
  }
}
