package net.aitbc.grid.ops;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Loads every manifest under {@code ops/k8s} into fabric8's typed Kubernetes model and checks what
 * the grid relies on: probes on the ports the commands listen on, GPUs for workers, the
 * disruption budget, secrets that exist, environment variables the commands read, and the image
 * names the {@code images} profile builds.
 */
class KubernetesManifestsTest {
  private static final Path K8S = Path.of("k8s");
  /** The uid the images run as (the Jib {@code container.user} in ops/pom.xml). */
  private static final long IMAGE_UID = 10001;

  private final List<HasMetadata> resources = load();

  @Test
  void everyManifestIsATypedResourceWithNoUnknownFieldAndNoNamespace() {
    assertThat(resources).noneMatch(r -> r instanceof GenericKubernetesResource);
    Map<String, Integer> kinds = new TreeMap<>();
    resources.forEach(r -> kinds.merge(r.getKind(), 1, Integer::sum));
    assertThat(kinds).containsExactlyInAnyOrderEntriesOf(Map.of(
        "Deployment", 2, "DaemonSet", 1, "Service", 2, "PodDisruptionBudget", 2, "Secret", 2));
    for (HasMetadata r : resources) {
      assertThat(r.getMetadata().getNamespace()).as("%s namespace", name(r)).isNull();
      assertThat(unknownFields(r, "")).as("fields the model does not know in %s (a typo?)", name(r)).isEmpty();
    }
  }

  @Test
  void coordinatorRunsReplicasProbedOverGrpcHealthOnItsGrpcPort() {
    Deployment coordinator = one(Deployment.class, "grid-coordinator");
    assertThat(coordinator.getSpec().getReplicas()).isGreaterThanOrEqualTo(2);
    assertThat(coordinator.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(coordinator.getSpec().getSelector().getMatchLabels());
    Container c = container(coordinator.getSpec().getTemplate());
    Map<String, String> env = plainEnv(c);
    int grpc = Integer.parseInt(env.getOrDefault("AITBC_COORDINATOR_PORT", "9090"));
    assertThat(grpc).isEqualTo(9090);
    assertThat(env).containsEntry("AITBC_COORDINATOR_HOST", "0.0.0.0");
    assertThat(port(c, "grpc")).isEqualTo(grpc);
    assertThat(port(c, "metrics")).isEqualTo(Integer.parseInt(env.get("AITBC_METRICS_PORT")));
    for (Probe probe : new Probe[] {c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe()}) {
      assertThat(probe).isNotNull();
      assertThat(probe.getGrpc()).as("a gRPC health probe").isNotNull();
      assertThat(probe.getGrpc().getPort()).isEqualTo(grpc);
      assertThat(probe.getGrpc().getService()).as("the server's overall health").isNull();
    }
    assertThat(coordinator.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/port", env.get("AITBC_METRICS_PORT"));
    assertServiceReaches("grid-coordinator", coordinator.getSpec().getTemplate(), Map.of("grpc", grpc));
  }

  @Test
  void disruptionBudgetKeepsACoordinatorAndSelectsItsPods() {
    Deployment coordinator = one(Deployment.class, "grid-coordinator");
    PodDisruptionBudget pdb = one(PodDisruptionBudget.class, "grid-coordinator");
    assertThat(pdb.getSpec().getSelector().getMatchLabels())
        .isEqualTo(coordinator.getSpec().getSelector().getMatchLabels());
    assertThat(coordinator.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isPositive()
        .isLessThan(coordinator.getSpec().getReplicas());
  }

  @Test
  void bridgeIsProbedOnItsHealthRouteAndTalksToTheCoordinatorService() {
    Deployment bridge = one(Deployment.class, "grid-bridge");
    Container c = container(bridge.getSpec().getTemplate());
    Map<String, String> env = plainEnv(c);
    int http = Integer.parseInt(env.get("AITBC_BRIDGE_PORT"));
    assertThat(http).isEqualTo(8000);
    assertThat(env).containsEntry("AITBC_BRIDGE_HOST", "0.0.0.0")
        .containsEntry("AITBC_COORDINATOR", "grid-coordinator:9090");
    assertThat(port(c, "http")).isEqualTo(http);
    for (Probe probe : new Probe[] {c.getReadinessProbe(), c.getLivenessProbe()}) {
      assertThat(probe.getHttpGet().getPath()).isEqualTo("/health");
      assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
    }
    assertServiceReaches("grid-bridge", bridge.getSpec().getTemplate(), Map.of("http", http));
  }

  @Test
  void workersAreADaemonSetOnGpuNodesAskingForGpusAndDrainingBeforeTheyAreKilled() {
    DaemonSet workers = one(DaemonSet.class, "grid-worker");
    PodSpec pod = workers.getSpec().getTemplate().getSpec();
    assertThat(pod.getNodeSelector()).containsKey("nvidia.com/gpu.present");
    assertThat(pod.getTolerations()).anyMatch(t -> "nvidia.com/gpu".equals(t.getKey()));
    Container c = container(workers.getSpec().getTemplate());
    Quantity gpus = c.getResources().getLimits().get("nvidia.com/gpu");
    assertThat(gpus).isNotNull();
    assertThat(gpus.getNumericalAmount()).isPositive();
    assertThat(plainEnv(c)).containsEntry("AITBC_COORDINATOR", "grid-coordinator:9090")
        .containsKey("AITBC_WORKER_STATE_DIR");
    // SIGTERM gives running jobs --drain-timeout (30 s by default) to finish.
    assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThan(30);
    String stateDir = plainEnv(c).get("AITBC_WORKER_STATE_DIR");
    assertThat(c.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals(stateDir));
    assertThat(c.getEnv()).anyMatch(e -> e.getName().equals("AITBC_WORKER_ID") && e.getValueFrom() != null);
  }

  @Test
  void everySecretReferenceNamesASecretAndAKeyItDefines() {
    Map<String, Set<String>> defined = new TreeMap<>();
    for (Secret s : all(Secret.class)) {
      Set<String> keys = new TreeSet<>();
      if (s.getStringData() != null) {
        keys.addAll(s.getStringData().keySet());
      }
      if (s.getData() != null) {
        keys.addAll(s.getData().keySet());
      }
      defined.put(s.getMetadata().getName(), keys);
    }
    List<String> used = new ArrayList<>();
    for (PodTemplateSpec template : templates()) {
      for (Container c : template.getSpec().getContainers()) {
        for (EnvVar e : c.getEnv()) {
          SecretKeySelector ref = e.getValueFrom() == null ? null : e.getValueFrom().getSecretKeyRef();
          if (ref != null) {
            used.add(ref.getName() + "/" + ref.getKey());
            assertThat(defined).as(e.getName()).containsKey(ref.getName());
            assertThat(defined.get(ref.getName())).as(e.getName()).contains(ref.getKey());
          }
        }
      }
    }
    assertThat(used).contains("grid-coordinator/db-url", "grid-coordinator/signing-key", "grid-worker/worker-key");
  }

  @Test
  void environmentVariablesAreOnesTheCommandsRead() {
    for (Container c : containers()) {
      String command = command(c);
      Set<String> read = CommandEnv.read(command);
      for (EnvVar e : c.getEnv()) {
        if (e.getName().startsWith("AITBC_")) {
          assertThat(read).as("%s sets %s; `grid %s` reads", c.getName(), e.getName(), command).contains(e.getName());
        }
      }
    }
  }

  @Test
  void imagesAreTheOnesTheImagesProfileBuilds() {
    String prefix = requireNonNull(System.getProperty("grid.image.prefix"), "grid.image.prefix (set by ops/pom.xml)");
    String tag = requireNonNull(System.getProperty("grid.image.tag"), "grid.image.tag (set by ops/pom.xml)");
    assertThat(containers()).hasSize(3)
        .allSatisfy(c -> assertThat(c.getImage()).isEqualTo(prefix + "grid-" + command(c) + ":" + tag));
  }

  @Test
  void podsRunAsTheImagesUserWithoutPrivilegesOnAReadOnlyRoot() {
    for (PodTemplateSpec template : templates()) {
      PodSpec pod = template.getSpec();
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
      assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(IMAGE_UID);
      assertThat(pod.getAutomountServiceAccountToken()).isFalse();
      for (Container c : pod.getContainers()) {
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        // The JVM, ONNX Runtime and the tokenizer write to /tmp (HOME in the images).
        assertThat(c.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/tmp"));
        assertThat(c.getResources().getLimits()).containsKey("memory");
      }
    }
  }

  // ---- helpers

  private static List<HasMetadata> load() {
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<HasMetadata> loaded = new ArrayList<>();
    try (Stream<Path> files = Files.walk(K8S)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted()
          .toList()) {
        Object parsed = serialization.unmarshal(Files.readString(file));
        switch (parsed) {
          case KubernetesList list -> loaded.addAll(list.getItems());
          case List<?> list -> list.forEach(o -> loaded.add((HasMetadata) o));
          case HasMetadata one -> loaded.add(one);
          default -> throw new AssertionError(file + ": not a Kubernetes resource: " + parsed);
        }
      }
    } catch (IOException e) {
      throw new AssertionError("cannot read " + K8S.toAbsolutePath(), e);
    }
    assertThat(loaded).as("manifests under %s", K8S.toAbsolutePath()).isNotEmpty();
    return loaded;
  }

  private <T extends HasMetadata> List<T> all(Class<T> kind) {
    return resources.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  private <T extends HasMetadata> T one(Class<T> kind, String name) {
    List<T> named = all(kind).stream().filter(r -> r.getMetadata().getName().equals(name)).toList();
    assertThat(named).as("%s %s", kind.getSimpleName(), name).hasSize(1);
    return named.getFirst();
  }

  private List<PodTemplateSpec> templates() {
    List<PodTemplateSpec> templates = new ArrayList<>();
    all(Deployment.class).forEach(d -> templates.add(d.getSpec().getTemplate()));
    all(DaemonSet.class).forEach(d -> templates.add(d.getSpec().getTemplate()));
    return templates;
  }

  private List<Container> containers() {
    return templates().stream().flatMap(t -> t.getSpec().getContainers().stream()).toList();
  }

  private static Container container(PodTemplateSpec template) {
    assertThat(template.getSpec().getContainers()).hasSize(1);
    return template.getSpec().getContainers().getFirst();
  }

  /** The {@code grid} subcommand a container runs: its name, which is also in its image's name. */
  private static String command(Container c) {
    assertThat(c.getName()).isIn("coordinator", "bridge", "worker");
    return c.getName();
  }

  private static Map<String, String> plainEnv(Container c) {
    Map<String, String> env = new TreeMap<>();
    c.getEnv().stream().filter(e -> e.getValue() != null).forEach(e -> env.put(e.getName(), e.getValue()));
    return env;
  }

  private static int port(Container c, String name) {
    return c.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
        .orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + name)).getContainerPort();
  }

  /** The Service of that name selects the template's pods and forwards each named port to it. */
  private void assertServiceReaches(String name, PodTemplateSpec template, Map<String, Integer> ports) {
    Service service = one(Service.class, name);
    assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(service.getSpec().getSelector());
    ports.forEach((portName, number) -> {
      ServicePort p = service.getSpec().getPorts().stream().filter(sp -> portName.equals(sp.getName())).findFirst()
          .orElseThrow(() -> new AssertionError(name + " has no port " + portName));
      assertThat(p.getPort()).isEqualTo(number);
      assertThat(p.getTargetPort().getStrVal()).isEqualTo(portName);
    });
  }

  private static String name(HasMetadata r) {
    return r.getKind() + " " + r.getMetadata().getName();
  }

  /**
   * Paths of fields that fabric8 did not recognise: the model keeps them in {@code
   * additionalProperties} instead of refusing them, so a misspelt field would otherwise pass.
   */
  private static List<String> unknownFields(Object node, String path) {
    List<String> unknown = new ArrayList<>();
    if (node instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        unknown.addAll(unknownFields(item, path + "[" + i++ + "]"));
      }
      return unknown;
    }
    if (node instanceof Map<?, ?> map) {
      map.forEach((k, v) -> unknown.addAll(unknownFields(v, path + "." + k)));
      return unknown;
    }
    if (node == null || !node.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
      return unknown;
    }
    for (Method getter : node.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
        continue;
      }
      Object value;
      try {
        value = getter.invoke(node);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue;
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          extra.keySet().forEach(k -> unknown.add(path + "." + k));
        }
      } else {
        unknown.addAll(unknownFields(value, path + "." + getter.getName().substring(3)));
      }
    }
    return unknown;
  }
}
