package net.aitbc.grid.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import net.aitbc.grid.transport.CoordinatorChannels.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoordinatorChannelsTest {
  @Test
  void oneAddressAListAndATargetUriAreTargets() {
    assertThat(CoordinatorChannels.parse(" 127.0.0.1:9090 ")).containsExactly(new HostPort("127.0.0.1", 9090));
    assertThat(CoordinatorChannels.parse("a.example:9090, b.example:9091,[::1]:9092,a.example:9090"))
        .containsExactly(new HostPort("a.example", 9090), new HostPort("b.example", 9091), new HostPort("::1", 9092));
    assertThat(CoordinatorChannels.parse("dns:///grid.example:9090")).hasSize(1);
    assertThat(new HostPort("::1", 9092).authority()).isEqualTo("[::1]:9092");
  }

  @Test
  void badTargetsAreRefusedSayingWhatIsExpected() {
    assertThatThrownBy(() -> CoordinatorChannels.checkTarget(" ")).hasMessageContaining("is empty");
    assertThatThrownBy(() -> CoordinatorChannels.checkTarget("grid.example")).hasMessageContaining("not host:port");
    assertThatThrownBy(() -> CoordinatorChannels.checkTarget("a:9090,b:0")).hasMessageContaining("'b:0'");
    assertThatThrownBy(() -> CoordinatorChannels.checkTarget("a:9090,")).hasMessageContaining("not host:port");
    assertThatThrownBy(() -> CoordinatorChannels.checkTarget("::1:9090")).hasMessageContaining("in brackets");
    assertThatThrownBy(() -> CoordinatorChannels.checkTarget("a:9090,dns:///b:9090"))
        .hasMessageContaining("host:port entries only");
  }

  @Test
  void aListChannelBuildsOverPlaintextAndTls() {
    for (ClientTls tls : new ClientTls[] {null, ClientTls.defaultTrust()}) {
      ManagedChannel c = CoordinatorChannels.forTarget("127.0.0.1:1,[::1]:2", tls).build();
      assertThat(c.authority()).isEqualTo("127.0.0.1:1");
      c.shutdownNow();
    }
  }

  @Test
  void aCertificateNeedsItsKeyAndFilesMustBeReadable(@TempDir Path dir) throws Exception {
    Path pem = Files.writeString(dir.resolve("x.pem"), "x");
    assertThatThrownBy(() -> new ClientTls(null, pem, null)).hasMessageContaining("needs its private key");
    assertThatThrownBy(() -> new ClientTls(dir.resolve("missing.pem"), null, null))
        .hasMessageContaining("missing.pem is not a readable file");
    assertThatThrownBy(() -> new ServerTls(pem, dir, null)).hasMessageContaining("the TLS key");
  }
}
