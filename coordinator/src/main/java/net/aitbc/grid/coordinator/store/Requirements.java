package net.aitbc.grid.coordinator.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.aitbc.grid.v1.Constraints;
import org.jspecify.annotations.Nullable;

/**
 * What a job needs from a worker, normalised for matching; null (or empty) parts need nothing.
 * {@link #satisfiedBy} is the rule in Java; {@link JobStore#claim} applies the same rule in SQL.
 *
 * @param gpu a GPU name without case, spaces or punctuation, found within one of the worker's
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

  /** Normalises a client's constraints; throws IllegalArgumentException naming a bad field. */
  public static Requirements of(Constraints c) {
    if (c.equals(Constraints.getDefaultInstance())) {
      return NONE;
    }
    if (c.getMinVramGb() < 0) {
      throw new IllegalArgumentException("constraints.min_vram_gb must not be negative");
    }
    if (c.getMaxPrice() < 0 || !Double.isFinite(c.getMaxPrice())) {
      throw new IllegalArgumentException("constraints.max_price must be a finite number, zero or more");
    }
    List<String> models = new ArrayList<>();
    for (String m : c.getModelsList()) {
      String model = m.trim().toLowerCase(Locale.ROOT);
      if (model.isEmpty() || model.length() > 200) {
        throw new IllegalArgumentException("constraints.models must be names of 1-200 characters");
      }
      models.add(model);
    }
    String gpu = gpuKey(c.getGpu());
    String region = c.getRegion().trim().toLowerCase(Locale.ROOT);
    return new Requirements(
        gpu.isEmpty() ? null : gpu,
        c.getCuda().isBlank() ? null : cuda(c.getCuda(), "constraints.cuda"),
        c.getMinVramGb() == 0 ? null : c.getMinVramGb() * 1000,
        models,
        region.isEmpty() ? null : region,
        c.getMaxPrice() == 0 ? null : c.getMaxPrice());
  }

  /** A GPU name as matched: lower case letters and digits only ("RTX 4090" → "rtx4090"). */
  public static String gpuKey(String name) {
    StringBuilder b = new StringBuilder(name.length());
    name.toLowerCase(Locale.ROOT).codePoints().filter(Character::isLetterOrDigit).forEach(b::appendCodePoint);
    return b.toString();
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
    return (gpu == null || o.gpuNames().contains(gpu))
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

  /** The client-facing form. */
  public Constraints toProto() {
    Constraints.Builder b = Constraints.newBuilder().addAllModels(models);
    if (gpu != null) {
      b.setGpu(gpu);
    }
    if (cuda != null) {
      b.setCuda(cuda / 100 + "." + cuda % 100);
    }
    if (minVramMb != null) {
      b.setMinVramGb(minVramMb / 1000);
    }
    if (region != null) {
      b.setRegion(region);
    }
    if (maxPrice != null) {
      b.setMaxPrice(maxPrice);
    }
    return b.build();
  }
}
