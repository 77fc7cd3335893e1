package net.aitbc.grid.transport;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannelBuilder;
import io.grpc.NameResolverRegistry;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Channels to a coordinator, the same way for workers, REST bridges and {@code grid} commands. A
 * target is one of:
 *
 * <ul>
 *   <li>{@code host:port}: one coordinator (a name with several DNS records is tried record by
 *       record);
 *   <li>{@code host1:port,host2:port,...}: replicas tried in the order given;
 *   <li>a gRPC target URI such as {@code dns:///grid.example:9090}.
 * </ul>
 *
 * <p>The channel uses gRPC's {@code pick_first} policy over every address: it connects to the
 * first that answers, and when that one goes away, the next call (or the worker's next stream)
 * starts again from the top of the list and lands on a live replica by itself.
 */
public final class CoordinatorChannels {
  private static final Pattern URI_TARGET = Pattern.compile("[a-zA-Z][a-zA-Z0-9+.-]*:/.*");

  private CoordinatorChannels() {}

  /**
   * A channel builder for {@code target} over plaintext ({@code tls} null) or TLS; throws {@link
   * IllegalArgumentException} naming what is wrong with the target or the TLS files.
   */
  public static ManagedChannelBuilder<?> forTarget(String target, @Nullable ClientTls tls) {
    ChannelCredentials credentials = tls == null ? InsecureChannelCredentials.create() : tls.credentials();
    List<HostPort> list = parse(target);
    ManagedChannelBuilder<?> builder;
    if (list.size() > 1) {
      // A registry of this channel's own, so that its list reaches no other channel.
      NameResolverRegistry registry = new NameResolverRegistry();
      registry.register(new AddressListResolver.Provider(list));
      builder = Grpc.newChannelBuilder(listUri(list), credentials, registry);
    } else {
      builder = Grpc.newChannelBuilder(target.strip(), credentials);
    }
    // gRPC's default already; said here because failover depends on it.
    return builder.defaultLoadBalancingPolicy("pick_first");
  }

  /** Throws {@link IllegalArgumentException} unless {@code target} is a coordinator target (see the class). */
  public static void checkTarget(String target) {
    parse(target);
  }

  /** The addresses of a comma-separated list, or one entry for a single target. */
  static List<HostPort> parse(String target) {
    String t = target.strip();
    if (t.isEmpty()) {
      throw new IllegalArgumentException("the coordinator address is empty: give host:port, a comma-separated "
          + "list of them, or a target such as dns:///grid.example:9090");
    }
    if (t.indexOf(',') < 0) {
      if (URI_TARGET.matcher(t).matches()) {
        return List.of(new HostPort(t, -1));
      }
      return List.of(HostPort.parse(t));
    }
    LinkedHashSet<HostPort> entries = new LinkedHashSet<>();
    for (String part : t.split(",", -1)) {
      if (URI_TARGET.matcher(part.strip()).matches()) {
        throw new IllegalArgumentException("a list of coordinators takes host:port entries only, not '" + part.strip()
            + "'");
      }
      entries.add(HostPort.parse(part.strip()));
    }
    return List.copyOf(entries);
  }

  private static String listUri(List<HostPort> list) {
    List<String> parts = new ArrayList<>();
    list.forEach(h -> parts.add(h.authority()));
    try {
      // The multi-part constructor quotes what a URI path cannot hold (IPv6 brackets).
      return new URI(AddressListResolver.SCHEME, "", "/" + String.join(",", parts), null).toString();
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("cannot form a target from " + parts, e);
    }
  }

  /**
   * One coordinator address.
   *
   * @param host a host name or IP literal (without brackets), or a whole target URI when {@code port} is -1
   * @param port 1 to 65535, or -1 for a target URI
   */
  record HostPort(String host, int port) {
    static HostPort parse(String entry) {
      int colon = entry.lastIndexOf(':');
      String host = colon < 0 ? "" : entry.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      } else if (host.contains(":")) {
        host = "";
      }
      int port = -1;
      try {
        port = colon < 0 ? -1 : Integer.parseInt(entry.substring(colon + 1));
      } catch (NumberFormatException e) {
        // reported below
      }
      if (host.isBlank() || port < 1 || port > 65535) {
        throw new IllegalArgumentException("coordinator address '" + entry + "' is not host:port (an IPv6 address "
            + "goes in brackets: [::1]:9090)");
      }
      return new HostPort(host, port);
    }

    /** {@code host:port}, with an IPv6 host in brackets. */
    String authority() {
      return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
  }
}
