package net.aitbc.grid.coordinator.store;

import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * What a worker offers, normalised for matching against {@link Requirements}.
 *
 * @param jobTypes job types it runs
 * @param models models it has, in lower case
 * @param gpus its GPU models as {@link Requirements#gpuKey} writes them
 * @param maxVramMb the memory of its largest GPU, in MB
 * @param region its region, in lower case
 * @param price what it asks per unit
 * @param cuda its CUDA version as major × 100 + minor, 0 without CUDA
 */
public record Offer(Set<String> jobTypes, Set<String> models, Set<String> gpus, int maxVramMb, String region,
    double price, int cuda) {

  /** Copies the sets. */
  public Offer {
    jobTypes = Set.copyOf(jobTypes);
    models = Set.copyOf(models);
    gpus = Set.copyOf(gpus);
  }

  /**
   * Normalises what a worker advertised; a CUDA version it cannot read counts as none.
   *
   * @param gpuNames its GPUs' names as the driver reports them
   */
  public static Offer of(Collection<String> jobTypes, Collection<String> models, Collection<String> gpuNames,
      long maxVramMb, String region, double price, String cuda) {
    int cudaVersion;
    try {
      cudaVersion = cuda.isBlank() ? 0 : Requirements.cuda(cuda, "cuda");
    } catch (IllegalArgumentException e) {
      cudaVersion = 0;
    }
    return new Offer(lower(jobTypes), lower(models),
        gpuNames.stream().map(Requirements::gpuKey).filter(k -> !k.isEmpty()).collect(Collectors.toSet()),
        (int) Math.min(Integer.MAX_VALUE, Math.max(0, maxVramMb)), region.trim().toLowerCase(Locale.ROOT), price,
        cudaVersion);
  }

  private static Set<String> lower(Collection<String> values) {
    return values.stream()
        .map(v -> v.trim().toLowerCase(Locale.ROOT))
        .filter(v -> !v.isEmpty())
        .collect(Collectors.toSet());
  }

  /** Workers with equal offers can run exactly the same jobs. */
  public String profile() {
    return String.join(",", new TreeSet<>(jobTypes)) + "|" + String.join(",", new TreeSet<>(models)) + "|"
        + String.join(",", new TreeSet<>(gpus)) + "|" + maxVramMb + "|" + region + "|" + price + "|" + cuda;
  }

  /** Whether it runs this type and model (null: the job names no model). */
  public boolean runs(String type, @Nullable String model) {
    return jobTypes.contains(type) && (model == null || models.contains(model));
  }
}
