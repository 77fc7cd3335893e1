package net.aitbc.grid.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.aitbc.grid.v1.Gpu;
import org.junit.jupiter.api.Test;

class GpuDetectorTest {

  @Test
  void parsesOneGpuPerLineOfTheCsvQuery() {
    String output =
        """
        0, NVIDIA H100 80GB HBM3, 81559
        1, NVIDIA H100 80GB HBM3, 81559
        """;

    assertThat(GpuDetector.parseGpus(output))
        .containsExactly(
            Gpu.newBuilder()
                .setIndex(0)
                .setModel("NVIDIA H100 80GB HBM3")
                .setMemoryMb(81559)
                .build(),
            Gpu.newBuilder()
                .setIndex(1)
                .setModel("NVIDIA H100 80GB HBM3")
                .setMemoryMb(81559)
                .build());
  }

  @Test
  void keepsCommasInsideTheNameAndReadsUnknownMemoryAsZero() {
    List<Gpu> gpus =
        GpuDetector.parseGpus(
            "0, NVIDIA GeForce RTX 4090, Laptop, 16376\r\n1, Tesla T4, [N/A]\r\n");

    assertThat(gpus)
        .extracting(Gpu::getModel)
        .containsExactly("NVIDIA GeForce RTX 4090, Laptop", "Tesla T4");
    assertThat(gpus).extracting(Gpu::getMemoryMb).containsExactly(16376L, 0L);
  }

  @Test
  void skipsBlankAndMalformedLines() {
    String output = "\nNo devices were found\nx, Broken, 1\n0, NVIDIA A10G, 23028\n";

    assertThat(GpuDetector.parseGpus(output))
        .extracting(Gpu::getIndex, Gpu::getModel)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(0, "NVIDIA A10G"));
    assertThat(GpuDetector.parseGpus("")).isEmpty();
  }

  @Test
  void readsTheCudaVersionFromTheHeader() {
    String header =
        """
        Tue Nov 26 10:30:00 2026
        +-----------------------------------------------------------------------------------------+
        | NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
        |-----------------------------------------+------------------------+----------------------+
        """;

    assertThat(GpuDetector.parseCudaVersion(header)).isEqualTo("12.4");
    assertThat(GpuDetector.parseCudaVersion("NVIDIA-SMI has failed")).isEmpty();
  }
}
