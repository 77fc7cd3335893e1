package net.aitbc.grid.transport;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.Status;
import io.grpc.StatusOr;
import io.grpc.SynchronizationContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import net.aitbc.grid.transport.CoordinatorChannels.HostPort;
import org.jspecify.annotations.Nullable;

/**
 * Resolves a fixed list of {@code host:port} entries, in order, to one address group per address.
 * Each group carries its own host as the authority, so that TLS checks each replica's certificate
 * against the name it was reached by. Names are looked up off gRPC's synchronization context, again
 * whenever the channel asks (after a replica goes away).
 */
final class AddressListResolver extends NameResolver {
  /** The scheme of list targets; only the channel the list was given to knows it. */
  static final String SCHEME = "coordinators";

  private final List<HostPort> entries;
  private final SynchronizationContext sync;
  private final @Nullable Executor offload;
  private @Nullable Listener2 listener;
  private boolean resolving;
  private boolean shutdown;

  private AddressListResolver(List<HostPort> entries, Args args) {
    this.entries = entries;
    this.sync = args.getSynchronizationContext();
    this.offload = args.getOffloadExecutor();
  }

  @Override
  public String getServiceAuthority() {
    return entries.getFirst().authority();
  }

  @Override
  public void start(Listener2 listener) {
    this.listener = listener;
    resolve();
  }

  @Override
  public void refresh() {
    resolve();
  }

  @Override
  public void shutdown() {
    shutdown = true;
  }

  // Called on the synchronization context.
  private void resolve() {
    if (resolving || shutdown || listener == null) {
      return;
    }
    resolving = true;
    Listener2 l = listener;
    Runnable lookup = () -> {
      List<EquivalentAddressGroup> groups = new ArrayList<>();
      List<String> unknown = new ArrayList<>();
      for (HostPort entry : entries) {
        try {
          Attributes attrs = Attributes.newBuilder()
              .set(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE, entry.authority()).build();
          for (InetAddress a : InetAddress.getAllByName(entry.host())) {
            groups.add(new EquivalentAddressGroup(new InetSocketAddress(a, entry.port()), attrs));
          }
        } catch (UnknownHostException e) {
          unknown.add(entry.host());
        }
      }
      sync.execute(() -> {
        resolving = false;
        if (shutdown) {
          return;
        }
        if (groups.isEmpty()) {
          l.onError(Status.UNAVAILABLE.withDescription("cannot resolve any coordinator of " + unknown));
        } else {
          l.onResult2(ResolutionResult.newBuilder().setAddressesOrError(StatusOr.fromValue(groups)).build());
        }
      });
    };
    if (offload != null) {
      offload.execute(lookup);
    } else {
      Thread.ofVirtual().name("coordinator-lookup").start(lookup);
    }
  }

  /** Gives every channel built with it a resolver for this one list, whatever the target says. */
  static final class Provider extends NameResolverProvider {
    private final List<HostPort> entries;

    Provider(List<HostPort> entries) {
      this.entries = List.copyOf(entries);
    }

    @Override
    public @Nullable NameResolver newNameResolver(URI targetUri, Args args) {
      return SCHEME.equals(targetUri.getScheme()) ? new AddressListResolver(entries, args) : null;
    }

    @Override
    public String getDefaultScheme() {
      return SCHEME;
    }

    @Override
    protected boolean isAvailable() {
      return true;
    }

    @Override
    protected int priority() {
      return 5;
    }
  }
}
