package net.aitbc.grid.coordinator.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What a job needs from a worker, normalised for matching; null (or empty) parts need nothing.
 * {@link #satisfiedBy} is the rule in Java; {@link ClaimStore#claim} applies the same rule in SQL.
 *
 * @param gpu a GPU model as {@link #gpuKey} writes it, equal to one of the worker's
 * @param cuda the lowest CUDA version as major × 100 + minor
 * @param minVramMb the least memory of the worker's largest GPU, in MB
 * @param models models the worker must all have (lower case)
 * @param region the worker's region (lower case)
 * @param maxPrice the most the worker may ask per unit
 */
public record Requirements(
    @Nullable String gpu,
    @Nullable Integer cuda,
    @Nullable Integer minVramMb,
    List<String> models,
    @Nullable String region,
    @Nullable Double maxPrice) {

  /** Needs nothing. */
  public static final Requirements NONE = new Requirements(null, null, null, List.of(), null, null);

  /** Copies the list. */
  public Requirements {
    models = List.copyOf(models);
  }

  /**
   * Normalises a client's constraints; throws IllegalArgumentException naming a bad field. Empty
   * text, 0 GB and a price of 0 constrain nothing.
   */
  public static Requirements of(String gpu, String cuda, int minVramGb, List<String> models, String region,
      double maxPrice) {
    if (minVramGb < 0) {
      throw new IllegalArgumentException("constraints.min_vram_gb must not be negative");
    }
    if (maxPrice < 0 || !Double.isFinite(maxPrice)) {
      throw new IllegalArgumentException("constraints.max_price must be a finite number, zero or more");
    }
    List<String> normalized = new ArrayList<>();
    for (String m : models) {
      String model = m.trim().toLowerCase(Locale.ROOT);
      if (model.isEmpty() || model.length() > 200) {
        throw new IllegalArgumentException("constraints.models must be names of 1-200 characters");
      }
      normalized.add(model);
    }
    String gpuKey = gpuKey(gpu);
    if (gpuKey.isEmpty() && !gpu.isBlank()) {
      throw new IllegalArgumentException("constraints.gpu '" + abbreviate(gpu) + "' names no GPU model");
    }
    String r = region.trim().toLowerCase(Locale.ROOT);
    Requirements req = new Requirements(
        gpuKey.isEmpty() ? null : gpuKey,
        cuda.isBlank() ? null : cuda(cuda, "constraints.cuda"),
        minVramGb == 0 ? null : minVramGb * 1000,
        normalized,
        r.isEmpty() ? null : r,
        maxPrice == 0 ? null : maxPrice);
    return req.equals(NONE) ? NONE : req;
  }

  /**
   * A GPU model as matched, the same for a client's constraint and a worker's GPU: lower-case words
   * without vendor and family names (NVIDIA, GeForce, Tesla, Quadro, AMD, Radeon), memory sizes and
   * form factors (80GB, HBM3, PCIe, SXM4, NVL), joined: "NVIDIA GeForce RTX 4090" and "RTX 4090" are
   * both "rtx4090", "NVIDIA H100 80GB HBM3" and "H100" both "h100". Keys match exactly, so "A100"
   * never matches an "RTX A1000" ("rtxa1000") and "RTX 3090" never a "3090 Ti".
   */
  public static String gpuKey(String name) {
    StringBuilder key = new StringBuilder(name.length());
    for (String word : name.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      if (!word.isEmpty() && !IGNORED_GPU_WORDS.contains(word) && !GPU_MEMORY_OR_FORM.matcher(word).matches()) {
        key.append(word);
      }
    }
    return key.toString();
  }

  private static final Set<String> IGNORED_GPU_WORDS =
      Set.of("nvidia", "geforce", "tesla", "quadro", "amd", "radeon", "instinct", "intel", "gpu", "gb", "graphics");
  /** Memory sizes (80gb, 24g), memory kinds (hbm3, hbm3e, gddr6x) and form factors (pcie, sxm4, nvl). */
  private static final Pattern GPU_MEMORY_OR_FORM =
      Pattern.compile("\\d+gb?|hbm\\d*e?|gddr\\d*x?|pcie|sxm\\d*|nvl|dgx");

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "…";
  }

  /** A CUDA version "12.4" as 1204; {@code field} names it in the error. */
  public static int cuda(String version, String field) {
    String[] parts = version.trim().split("\\.");
    try {
      int major = Integer.parseInt(parts[0]);
      int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
      if (major < 0 || minor < 0 || minor > 99 || major > 999) {
        throw new NumberFormatException();
      }
      return major * 100 + minor;
    } catch (NumberFormatException e) {
      String shown = version.length() <= 40 ? version : version.substring(0, 40) + "…";
      throw new IllegalArgumentException(field + " must be a version such as 12.4, not '" + shown + "'");
    }
  }

  /** Whether a worker offering this can run the job. */
  public boolean satisfiedBy(Offer o) {
    return (gpu == null || o.gpus().contains(gpu))
        && (cuda == null || cuda <= o.cuda())
        && (minVramMb == null || minVramMb <= o.maxVramMb())
        && o.models().containsAll(models)
        && (region == null || region.equals(o.region()))
        && (maxPrice == null || o.price() <= maxPrice);
  }

  /** The parts in words, e.g. ["GPU rtx4090", "at least 24 GB of GPU memory"]. */
  public List<String> describe() {
    List<String> parts = new ArrayList<>();
    if (gpu != null) {
      parts.add("GPU " + gpu);
    }
    if (cuda != null) {
      parts.add("CUDA " + cuda / 100 + "." + cuda % 100 + " or newer");
    }
    if (minVramMb != null) {
      parts.add("at least " + minVramMb / 1000 + " GB of GPU memory");
    }
    if (!models.isEmpty()) {
      parts.add("models " + String.join(", ", models));
    }
    if (region != null) {
      parts.add("region " + region);
    }
    if (maxPrice != null) {
      parts.add("a price of at most " + maxPrice);
    }
    return parts;
  }
}
