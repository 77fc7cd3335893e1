package net.aitbc.grid.worker;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.aitbc.grid.v1.Gpu;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the machine's NVIDIA GPUs with {@code nvidia-smi}; no tool or a failing one means no GPUs.
 */
public final class GpuDetector {

  private static final Logger logger = LoggerFactory.getLogger(GpuDetector.class);
  private static final long TIMEOUT_SECONDS = 5;
  private static final Pattern CUDA_VERSION = Pattern.compile("CUDA Version:\\s*([0-9][0-9.]*)");

  /**
   * What was found.
   *
   * @param gpus one entry per GPU, in {@code nvidia-smi} order
   * @param cuda the CUDA version the driver supports, e.g. {@code 12.4}; empty when unknown
   */
  public record Result(List<Gpu> gpus, String cuda) {

    /** No GPUs, no CUDA. */
    public static final Result NONE = new Result(List.of(), "");
  }

  private GpuDetector() {}

  /** Runs {@code nvidia-smi} (5 s timeout per call) when it is on the PATH. */
  public static Result detect() {
    if (!onPath("nvidia-smi")) {
      logger.debug("nvidia-smi is not on the PATH: no GPUs");
      return Result.NONE;
    }
    String csv =
        run("nvidia-smi", "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits");
    if (csv == null) {
      return Result.NONE;
    }
    List<Gpu> gpus = parseGpus(csv);
    String header = run("nvidia-smi");
    String cuda = header == null ? "" : parseCudaVersion(header);
    logger.info("found {} GPU(s){}", gpus.size(), cuda.isEmpty() ? "" : ", CUDA " + cuda);
    return new Result(gpus, cuda);
  }

  /**
   * Parses {@code index, name, memory.total} lines as {@code --format=csv,noheader,nounits} prints
   * them.
   */
  public static List<Gpu> parseGpus(String csv) {
    List<Gpu> gpus = new ArrayList<>();
    for (String line : csv.split("\\R")) {
      if (line.isBlank()) {
        continue;
      }
      // The name may itself hold commas; index and memory are the first and last columns.
      int first = line.indexOf(',');
      int last = line.lastIndexOf(',');
      if (first < 0 || last <= first) {
        logger.debug("skipping nvidia-smi line {}", line);
        continue;
      }
      try {
        int index = Integer.parseInt(line.substring(0, first).strip());
        String name = line.substring(first + 1, last).strip();
        String memory = line.substring(last + 1).strip();
        long memoryMb = memory.matches("\\d+") ? Long.parseLong(memory) : 0;
        gpus.add(Gpu.newBuilder().setIndex(index).setModel(name).setMemoryMb(memoryMb).build());
      } catch (NumberFormatException e) {
        logger.debug("skipping nvidia-smi line {}", line);
      }
    }
    return List.copyOf(gpus);
  }

  /** The "CUDA Version: X" of {@code nvidia-smi}'s header, or empty. */
  public static String parseCudaVersion(String output) {
    Matcher m = CUDA_VERSION.matcher(output);
    return m.find() ? m.group(1) : "";
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  private static @Nullable String run(String... command) {
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      logger.info("cannot run {}: {}; assuming no GPUs", command[0], e.getMessage());
      return null;
    }
    // Read on another thread: a hung tool must not hang start-up, and a full pipe must not hang the
    // tool.
    CompletableFuture<String> output =
        CompletableFuture.supplyAsync(
            () -> readAll(process.getInputStream()),
            runnable -> Thread.ofVirtual().name("nvidia-smi-reader").start(runnable));
    try {
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        logger.info(
            "{} did not answer within {} s; assuming no GPUs",
            String.join(" ", command),
            TIMEOUT_SECONDS);
        return null;
      }
      String text = output.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (process.exitValue() != 0) {
        logger.info(
            "{} exited with {}: {}; assuming no GPUs",
            command[0],
            process.exitValue(),
            text.strip());
        return null;
      }
      return text;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (ExecutionException | TimeoutException e) {
      logger.info("cannot read {} output: {}", command[0], e.toString());
      return null;
    } finally {
      process.destroyForcibly();
    }
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
