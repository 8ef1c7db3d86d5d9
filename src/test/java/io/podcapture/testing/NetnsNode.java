package io.podcapture.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kubernetes node made of network namespaces, wired like the common CNIs, for captures whose
 * packet counts must be exact. The node is a namespace of its own (forwarding on), so its routes,
 * bridge and tunnels never touch this machine; tcpdump runs in it through {@link #launcher()}
 * ({@code ip netns exec}), and the node's {@code /sys/class/net} is a sysfs mounted from inside it
 * ({@link #sysClassNet()}). Pods are namespaces behind veth pairs:
 *
 * <ul>
 *   <li>{@link #addRoutedPod()}: like Calico or kindnet's ptp: the Pod's /32 (and /128) routed to
 *       its veth, the Pod's default route via a gateway address every host-side veth holds ({@value
 *       #ROUTED_GATEWAY4}, {@code fe80::1});
 *   <li>{@link #addBridgedPod()}: like flannel's {@code cni0} or the bridge plugin: every Pod's
 *       veth a port of bridge {@value #BRIDGE}, which holds the gateway address ({@link
 *       #bridgeGateway4()});
 *   <li>{@link #linkVxlan(NetnsNode)}: a VXLAN tunnel ({@value #VXLAN}) to another node over an
 *       underlay veth, like flannel's vxlan backend, with each node's Pod subnets routed through
 *       it.
 * </ul>
 *
 * The node's own address ({@link #nodeIpv4()}, {@link #nodeIpv6()}) is on its loopback, as a node
 * IP on another interface would be. Addresses are fixed per node number (the namespaces keep them
 * apart from everything else). Names carry the JVM's pid; namespaces of JVMs that died are deleted
 * on first use. Needs root.
 */
public final class NetnsNode implements AutoCloseable {

  public static final String BRIDGE = "cni0";
  public static final String VXLAN = "flannel.1";
  public static final String ROUTED_GATEWAY4 = "169.254.1.1";
  private static final String ROUTED_GATEWAY6 = "fe80::1";
  private static final String PREFIX = "podcapn-";
  private static final Pattern NAME = Pattern.compile(PREFIX + "(\\d+)-\\d+.*");
  private static final long PID = ProcessHandle.current().pid();
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final Set<NetnsNode> OPEN = ConcurrentHashMap.newKeySet();
  private static final AtomicBoolean STARTED = new AtomicBoolean();

  private final String name;

  /** 1..250: picks this node's Pod subnets, 10.(100+n).0.0/16 and fd00:(100+n)::/64. */
  private final int number;

  private final Path sysfs;
  private final List<NetnsPodOnNode> pods = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private boolean bridged;

  private NetnsNode(int number) {
    this.number = number;
    this.name = PREFIX + PID + "-" + number;
    this.sysfs = Path.of("/tmp", name + "-sys");
  }

  /**
   * A node without Pods: its namespace, loopback with the node address, forwarding on, sysfs
   * mounted.
   */
  public static NetnsNode create() {
    if (STARTED.compareAndSet(false, true)) {
      deleteNodesOfDeadJvms();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(() -> List.copyOf(OPEN).forEach(NetnsNode::close), "netns-node-cleanup"));
    }
    NetnsNode node = new NetnsNode(COUNTER.incrementAndGet() % 250 + 1);
    OPEN.add(node);
    try {
      node.setUp();
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    return node;
  }

  private void setUp() {
    run("ip", "netns", "add", name);
    ip("link", "set", "lo", "up");
    ip("addr", "add", nodeIpv4() + "/32", "dev", "lo");
    ip("-6", "addr", "add", nodeIpv6() + "/128", "dev", "lo");
    exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    exec("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
    try {
      Files.createDirectories(sysfs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // sysfs shows the network namespace of whoever mounts it
    run("nsenter", "--net=/run/netns/" + name, "mount", "-t", "sysfs", "sysfs", sysfs.toString());
  }

  public String name() {
    return name;
  }

  /** argv that runs a command (tcpdump) in this node's network namespace. */
  public List<String> launcher() {
    return List.of("ip", "netns", "exec", name);
  }

  /** This node's {@code /sys/class/net}. */
  public Path sysClassNet() {
    return sysfs.resolve("class/net");
  }

  public String nodeIpv4() {
    return "10.99.0." + number;
  }

  public String nodeIpv6() {
    return "fd00:99::" + Integer.toHexString(number);
  }

  public String bridgeGateway4() {
    return "10." + (100 + number) + ".1.1";
  }

  public String bridgeGateway6() {
    return "fd00:" + (100 + number) + ":1::1";
  }

  /** A Pod whose /32 and /128 are routed to its veth. */
  public NetnsPodOnNode addRoutedPod() {
    int i = pods.size() + 2;
    String ipv4 = "10." + (100 + number) + ".0." + i;
    String ipv6 = "fd00:" + (100 + number) + "::" + Integer.toHexString(i);
    NetnsPodOnNode pod = newPod(ipv4, ipv6);
    String veth = pod.hostInterface();
    ip("addr", "add", ROUTED_GATEWAY4 + "/32", "dev", veth);
    ip("-6", "addr", "add", ROUTED_GATEWAY6 + "/64", "dev", veth, "nodad");
    ip("link", "set", veth, "up");
    ip("route", "add", ipv4 + "/32", "dev", veth);
    ip("-6", "route", "add", ipv6 + "/128", "dev", veth);
    pod.ip("addr", "add", ipv4 + "/32", "dev", "eth0");
    pod.ip("-6", "addr", "add", ipv6 + "/128", "dev", "eth0", "nodad");
    pod.ip("link", "set", "eth0", "up");
    pod.ip("route", "add", ROUTED_GATEWAY4 + "/32", "dev", "eth0");
    pod.ip("route", "add", "default", "via", ROUTED_GATEWAY4, "dev", "eth0");
    pod.ip("-6", "route", "add", "default", "via", ROUTED_GATEWAY6, "dev", "eth0");
    pod.awaitReachable(ROUTED_GATEWAY4, nodeIpv6());
    return pod;
  }

  /**
   * A Pod on bridge {@value #BRIDGE} (created with the first one), in 10.(100+n).1.0/24 and a /64.
   */
  public NetnsPodOnNode addBridgedPod() {
    if (!bridged) {
      ip("link", "add", BRIDGE, "type", "bridge");
      ip("addr", "add", bridgeGateway4() + "/24", "dev", BRIDGE);
      ip("-6", "addr", "add", bridgeGateway6() + "/64", "dev", BRIDGE, "nodad");
      ip("link", "set", BRIDGE, "up");
      bridged = true;
    }
    int i = pods.size() + 2;
    String ipv4 = "10." + (100 + number) + ".1." + i;
    String ipv6 = "fd00:" + (100 + number) + ":1::" + Integer.toHexString(i);
    NetnsPodOnNode pod = newPod(ipv4, ipv6);
    ip("link", "set", pod.hostInterface(), "master", BRIDGE);
    ip("link", "set", pod.hostInterface(), "up");
    pod.ip("addr", "add", ipv4 + "/24", "dev", "eth0");
    pod.ip("-6", "addr", "add", ipv6 + "/64", "dev", "eth0", "nodad");
    pod.ip("link", "set", "eth0", "up");
    pod.ip("route", "add", "default", "via", bridgeGateway4());
    pod.ip("-6", "route", "add", "default", "via", bridgeGateway6());
    pod.awaitReachable(bridgeGateway4(), bridgeGateway6());
    return pod;
  }

  private NetnsPodOnNode newPod(String ipv4, String ipv6) {
    String podNetns = name + "-p" + (pods.size() + 1);
    String veth = "veth-p" + (pods.size() + 1);
    NetnsPodOnNode pod = new NetnsPodOnNode(this, podNetns, veth, ipv4, ipv6);
    pods.add(pod);
    run("ip", "netns", "add", podNetns);
    pod.ip("link", "set", "lo", "up");
    // The pair is made on the node and the Pod's end moved; a moved device keeps its interface
    // index where that is free (always, in a namespace holding only lo), so the two ends never
    // share an index. In a fresh node namespace, making the pair in the Pod's namespace and moving
    // the host end (as CNI plugins do) can give the host end its peer's index, which a real node,
    // with its many devices, practically never does.
    ip("link", "add", veth, "type", "veth", "peer", "name", "eth0");
    ip("link", "set", "eth0", "netns", podNetns);
    return pod;
  }

  /**
   * Links this node and {@code other} by an underlay veth and a VXLAN device on each side, and
   * routes each node's Pod subnets and node address through the tunnel, as flannel's vxlan backend
   * does.
   */
  public void linkVxlan(NetnsNode other) {
    String underlay = "uplink";
    ip("link", "add", underlay, "type", "veth", "peer", "name", underlay, "netns", other.name);
    for (NetnsNode node : List.of(this, other)) {
      boolean here = node == this;
      String local = here ? "192.168.77.1" : "192.168.77.2";
      String remote = here ? "192.168.77.2" : "192.168.77.1";
      node.ip("addr", "add", local + "/24", "dev", underlay);
      node.ip("link", "set", underlay, "up");
      node.ip(
          "link", "add", VXLAN, "type", "vxlan", "id", "1", "local", local, "remote", remote,
          "dstport", "8472", "dev", underlay);
      node.ip("addr", "add", (here ? "10.98.0.1" : "10.98.0.2") + "/24", "dev", VXLAN);
      node.ip(
          "-6", "addr", "add", (here ? "fd00:98::1" : "fd00:98::2") + "/64", "dev", VXLAN, "nodad");
      node.ip("link", "set", VXLAN, "up");
      NetnsNode peer = here ? other : this;
      String via4 = here ? "10.98.0.2" : "10.98.0.1";
      String via6 = here ? "fd00:98::2" : "fd00:98::1";
      node.ip("route", "add", "10." + (100 + peer.number) + ".0.0/16", "via", via4, "dev", VXLAN);
      node.ip("route", "add", peer.nodeIpv4() + "/32", "via", via4, "dev", VXLAN);
      node.ip(
          "-6", "route", "add", "fd00:" + (100 + peer.number) + "::/32", "via", via6, "dev", VXLAN);
      node.ip("-6", "route", "add", peer.nodeIpv6() + "/128", "via", via6, "dev", VXLAN);
    }
  }

  /** Pings {@code target} from this node's own address. */
  public NetnsPod.PingResult ping(String target, int count) {
    return ping(target.contains(":") ? nodeIpv6() : nodeIpv4(), target, count);
  }

  /**
   * Pings {@code target} from {@code source}, an address of this node (such as the bridge's gateway
   * address).
   */
  public NetnsPod.PingResult ping(String source, String target, int count) {
    return pingFrom(launcher(), source, target, count);
  }

  static NetnsPod.PingResult pingFrom(
      List<String> prefix, String source, String target, int count) {
    List<String> argv = new ArrayList<>(prefix);
    argv.addAll(
        List.of(
            "ping",
            "-q",
            "-n",
            "-c",
            Integer.toString(count),
            "-i",
            "0.01",
            "-w",
            "10",
            "-I",
            source,
            target));
    return NetnsPod.PingResult.of(Command.run(Duration.ofSeconds(20), argv));
  }

  /** Runs {@code argv} in this node's namespace. */
  public Command.Result exec(String... argv) {
    List<String> full = new ArrayList<>(launcher());
    full.addAll(List.of(argv));
    return Command.run(full).orThrow();
  }

  void ip(String... args) {
    List<String> argv = new ArrayList<>(List.of("ip", "-n", name));
    argv.addAll(List.of(args));
    Command.run(argv).orThrow();
  }

  private static void run(String... argv) {
    Command.run(argv).orThrow();
  }

  /** Unmounts its sysfs and deletes its namespaces and those of its Pods. Harmless twice. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Command.run("umount", sysfs.toString());
    try {
      Files.deleteIfExists(sysfs);
    } catch (IOException e) {
      // still mounted (umount failed): left for the next run's clean-up
    }
    pods.forEach(pod -> Command.run("ip", "netns", "del", pod.netns()));
    Command.run("ip", "netns", "del", name);
    OPEN.remove(this);
  }

  @Override
  public String toString() {
    return "NetnsNode " + name;
  }

  private static void deleteNodesOfDeadJvms() {
    for (String line : Command.run("ip", "netns", "list").output().split("\n")) {
      String netns = line.split(" ")[0];
      Matcher m = NAME.matcher(netns);
      if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
        Path sys = Path.of("/tmp", netns + "-sys");
        if (Files.exists(sys)) {
          Command.run("umount", sys.toString());
          Command.run("rmdir", sys.toString());
        }
        Command.run("ip", "netns", "del", netns);
      }
    }
  }
}
