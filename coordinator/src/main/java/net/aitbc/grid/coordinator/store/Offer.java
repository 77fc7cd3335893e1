package net.aitbc.grid.coordinator.store;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import net.aitbc.grid.v1.Gpu;
import net.aitbc.grid.v1.WorkerCapabilities;

/**
 * What a worker offers, normalised for matching against {@link Requirements}.
 *
 * @param jobTypes job types it runs
 * @param models models it has, in lower case
 * @param gpuNames its GPU names as {@link Requirements#gpuKey} writes them, joined by "|"
 * @param maxVramMb the memory of its largest GPU, in MB
 * @param region its region, in lower case
 * @param price what it asks per unit
 * @param cuda its CUDA version as major × 100 + minor, 0 without CUDA
 */
public record Offer(Set<String> jobTypes, Set<String> models, String gpuNames, int maxVramMb, String region,
    double price, int cuda) {

  /** Reads a worker's advertised capabilities; a CUDA version it cannot read counts as none. */
  public static Offer of(WorkerCapabilities c) {
    int cuda;
    try {
      cuda = c.getCuda().isBlank() ? 0 : Requirements.cuda(c.getCuda(), "cuda");
    } catch (IllegalArgumentException e) {
      cuda = 0;
    }
    return new Offer(
        lower(c.getJobTypesList()),
        lower(c.getModelsList()),
        c.getGpusList().stream().map(g -> Requirements.gpuKey(g.getModel())).collect(Collectors.joining("|")),
        (int) Math.min(Integer.MAX_VALUE, c.getGpusList().stream().mapToLong(Gpu::getMemoryMb).max().orElse(0)),
        c.getRegion().trim().toLowerCase(Locale.ROOT),
        c.getPrice(),
        cuda);
  }

  private static Set<String> lower(List<String> values) {
    return values.stream()
        .map(v -> v.trim().toLowerCase(Locale.ROOT))
        .filter(v -> !v.isEmpty())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** Workers with equal offers can run exactly the same jobs. */
  public String profile() {
    return String.join(",", jobTypes) + "|" + String.join(",", models) + "|" + gpuNames + "|" + maxVramMb + "|"
        + region + "|" + price + "|" + cuda;
  }

  /** Whether it runs this type and model (null: the job names no model). */
  public boolean runs(String type, @org.jspecify.annotations.Nullable String model) {
    return jobTypes.contains(type) && (model == null || models.contains(model));
  }
}
