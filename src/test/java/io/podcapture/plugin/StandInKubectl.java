package io.podcapture.plugin;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the real {@code plugin/kubectl-podcapture} with bash and a stand-in {@code kubectl} (and
 * sometimes a stand-in {@code mergecap}) first on PATH. The stand-in records every argv (and the
 * manifest of every {@code create -f -}) and answers from rules the test writes. For {@code kubectl
 * exec} it runs the command locally, as the agent Pod would: in a session of its own (signals to
 * the plugin's process group do not reach it), its standard input fed from the stand-in's and its
 * output copied to the stand-in's, so that the command sees the end of its input, and its next
 * write fails, once the stand-in is gone, as with kubectl.
 *
 * <p>PATH holds nothing else but links to {@link #TOOLS}, which also pins what the plugin needs.
 */
final class StandInKubectl {
  static final Path SCRIPT =
      Path.of(
              Optional.ofNullable(System.getenv("PODCAPTURE_PROJECT_DIR")).orElse(""),
              "plugin",
              "kubectl-podcapture")
          .toAbsolutePath();

  /**
   * What the plugin may use besides kubectl and mergecap (bash, mkdir, rm; sleep for --wait and
   * stream; date for list's ages; perl to read kubectl's JSON, and for stream to see that its
   * reader has gone), and cat, which only the stand-ins use (as they use perl).
   */
  static final List<String> TOOLS = List.of("bash", "cat", "date", "mkdir", "perl", "rm", "sleep");

  private static final String KUBECTL_STUB =
      """
      #!/usr/bin/env bash
      # Stand-in kubectl: records its argv (count, then each argument, NUL-terminated), and for -f - its
      # standard input; answers from the first rule whose argv (NUL-separated) equals its own, or whose
      # prefix its argv starts with. A rule marked "once" answers one call only.
      printf '%s\\0' "$#" "$@" >>"$STUB_DIR/kubectl.calls"
      args=" $* "
      if [[ $args == *" -f - "* ]]; then
        IFS= read -r -d '' manifest || true
        printf '%s\\0' "$manifest" >>"$STUB_DIR/kubectl.stdin"
      fi
      for rule in "$STUB_DIR"/kubectl-rules/*; do
        [[ -f $rule/used ]] && continue
        if [[ -f $rule/argv ]]; then
          mapfile -d '' -t want <"$rule/argv"
          ((${#want[@]} == $#)) || continue
        elif [[ -f $rule/prefix ]]; then
          mapfile -d '' -t want <"$rule/prefix"
          ((${#want[@]} <= $#)) || continue
        else
          continue
        fi
        i=0 same=1
        for w in "${want[@]}"; do
          [[ $w == "${@:i+1:1}" ]] || { same=0; break; }
          i=$((i + 1))
        done
        ((same)) || continue
        [[ -f $rule/once ]] && : >"$rule/used"
        if [[ -f $rule/runs ]]; then
          exec perl -e "$(cat "$STUB_DIR/exec.pl")" -- "${@:${#want[@]}+1}"
        fi
        if [[ -f $rule/stdout ]]; then IFS= read -r -d '' out <"$rule/stdout"; printf '%s' "$out"; fi
        if [[ -f $rule/stderr ]]; then IFS= read -r -d '' err <"$rule/stderr"; printf '%s' "$err" >&2; fi
        if [[ -f $rule/writes ]]; then IFS= read -r -d '' data <"$rule/writes"; printf '%s' "$data" >"${!#}"; fi
        code=0
        [[ -f $rule/exit ]] && read -r code <"$rule/exit"
        exit "$code"
      done
      printf 'stand-in kubectl: no answer for:' >&2
      printf ' [%s]' "$@" >&2
      exit 97
      """;

  /**
   * kubectl exec, locally: see the class comment. Records the remote command's pid in remote.pids.
   */
  private static final String EXEC_PL =
      """
      use strict;
      use POSIX ();
      $SIG{PIPE} = 'DEFAULT';
      pipe(my $in_r, my $in_w) or die "pipe: $!";
      pipe(my $out_r, my $out_w) or die "pipe: $!";
      my $pid = fork;
      defined $pid or die "fork: $!";
      if ($pid == 0) {
        POSIX::setsid();
        open(STDIN, '<&', $in_r) or die;
        open(STDOUT, '>&', $out_w) or die;
        close $_ for ($in_r, $in_w, $out_r, $out_w);
        $ENV{PATH} = $ENV{REMOTE_PATH} if $ENV{REMOTE_PATH};
        # as a container runtime reports a command it cannot find, and kubectl exec's exit code then
        exec { $ARGV[0] } @ARGV or do {
          print STDERR "OCI runtime exec failed: exec failed: unable to start container process: "
            . "exec: \\"$ARGV[0]\\": executable file not found in \\$PATH: unknown\\n"
            . "command terminated with exit code 126\\n";
          POSIX::_exit(126);
        };
      }
      close $in_r;
      close $out_w;
      open(my $log, '>>', "$ENV{STUB_DIR}/remote.pids") or die;
      print $log "$pid\\n";
      close $log;
      my $stdin_open = 1;
      while (1) {
        my $want = '';
        vec($want, fileno($out_r), 1) = 1;
        vec($want, fileno(STDIN), 1) = 1 if $stdin_open;
        next if select(my $ready = $want, undef, undef, undef) < 0;
        if ($stdin_open && vec($ready, fileno(STDIN), 1)) {
          my $n = sysread(STDIN, my $buf, 65536);
          # The remote command may have ended (or never started) with its stdin unread: kubectl
          # then stops sending stdin; it is not killed by SIGPIPE, which here stands only for a
          # reader of stdout that went away.
          local $SIG{PIPE} = 'IGNORE';
          if (!$n || !defined syswrite($in_w, $buf)) { close $in_w; $stdin_open = 0; }
        }
        if (vec($ready, fileno($out_r), 1)) {
          my $n = sysread($out_r, my $buf, 65536);
          if (!$n) {
            waitpid($pid, 0);
            exit(($? & 127) ? 128 + ($? & 127) : $? >> 8);
          }
          my $off = 0;
          while ($off < $n) {
            my $w = syswrite(STDOUT, $buf, $n - $off, $off);
            exit 1 if !defined $w;
            $off += $w;
          }
        }
      }
      """;

  static final String MERGECAP_STUB =
      """
      #!/usr/bin/env bash
      # Stand-in mergecap: records its argv; for -w OUT IN... writes the inputs' contents, in argument order, to OUT.
      printf '%s\\0' "$#" "$@" >>"$STUB_DIR/mergecap.calls"
      if [[ -f $STUB_DIR/mergecap.fail ]]; then
        echo 'mergecap: The file "x" appears to have been cut short in the middle of a packet.' >&2
        exit 2
      fi
      [[ $1 == -w ]] || exit 64
      out=$2
      shift 2
      merged=""
      for f in "$@"; do IFS= read -r -d '' part <"$f"; merged+=$part; done
      printf '%s' "$merged" >"$out"
      """;

  final Path tmp;
  final Path stubDir;
  final Path bin;
  final Path tools;
  final Path work;
  final Map<String, String> env = new HashMap<>();
  private int rules;

  StandInKubectl(Path tmp) throws IOException {
    this.tmp = tmp;
    stubDir = Files.createDirectories(tmp.resolve("stub"));
    Files.createDirectories(stubDir.resolve("kubectl-rules"));
    bin = Files.createDirectories(tmp.resolve("bin"));
    tools = Files.createDirectories(tmp.resolve("tools"));
    work = Files.createDirectories(tmp.resolve("work"));
    for (String tool : TOOLS) {
      Files.createSymbolicLink(
          tools.resolve(tool),
          hostExecutable(tool)
              .orElseThrow(() -> new IllegalStateException(tool + " is not on PATH")));
    }
    writeExecutable(bin.resolve("kubectl"), KUBECTL_STUB);
    Files.writeString(stubDir.resolve("exec.pl"), EXEC_PL);
    // --wait and stream poll: fast here
    env.put("PODCAPTURE_POLL_SECONDS", "0.05");
    // download and stream by kubectl cp and exec, unless a test asks for the files API
    env.put("PODCAPTURE_FILES_VIA", "exec");
  }

  /** download and stream find out for themselves whether the files API is there (the default). */
  void filesViaAuto() {
    env.put("PODCAPTURE_FILES_VIA", "auto");
  }

  void installMergecap() throws IOException {
    writeExecutable(bin.resolve("mergecap"), MERGECAP_STUB);
  }

  record Result(int exit, String stdout, String stderr) {}

  /** Runs the plugin to its end, with standard input from /dev/null. */
  Result run(String... args) throws Exception {
    Path out = tmp.resolve("stdout");
    Path err = tmp.resolve("stderr");
    Process p =
        builder(List.of(), args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "plugin did not finish");
    // decoded leniently: stream writes pcap
    return new Result(
        p.exitValue(),
        new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
        new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
  }

  /**
   * The plugin's command line, run by {@code launcher} (e.g. setsid, to give it a process group of
   * its own), with the stand-ins' PATH and environment.
   */
  ProcessBuilder builder(List<String> launcher, String... args) {
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of("bash", SCRIPT.toString()));
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
    pb.environment().put("PATH", bin + File.pathSeparator + tools);
    pb.environment().put("STUB_DIR", stubDir.toString());
    pb.environment().putAll(env);
    return pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
  }

  /** A rule: when called with exactly {@code argv}, answer as told. */
  Answer on(List<String> argv) throws IOException {
    Path rule =
        Files.createDirectories(
            stubDir.resolve("kubectl-rules").resolve(String.format("%03d", rules++)));
    Files.writeString(rule.resolve("argv"), String.join("\0", argv) + "\0");
    return new Answer(rule);
  }

  /**
   * A rule for kubectl exec: when called with an argv starting with {@code prefix}, run the rest
   * locally.
   */
  void execRunsLocally(List<String> prefix) throws IOException {
    Path rule =
        Files.createDirectories(
            stubDir.resolve("kubectl-rules").resolve(String.format("%03d", rules++)));
    Files.writeString(rule.resolve("prefix"), String.join("\0", prefix) + "\0");
    Files.writeString(rule.resolve("runs"), "");
  }

  record Answer(Path rule) {
    Answer prints(String stdout) throws IOException {
      Files.writeString(rule.resolve("stdout"), stdout);
      return this;
    }

    Answer exitsWith(int exit, String stderr) throws IOException {
      Files.writeString(rule.resolve("stderr"), stderr);
      Files.writeString(rule.resolve("exit"), exit + "\n");
      return this;
    }

    Answer writesDestination(String content) throws IOException {
      Files.writeString(rule.resolve("writes"), content);
      return this;
    }

    /** Answers one call only; the next identical call goes to a later rule. */
    Answer once() throws IOException {
      Files.writeString(rule.resolve("once"), "");
      return this;
    }
  }

  List<List<String>> calls() throws IOException {
    return calls("kubectl.calls");
  }

  /** The standard input of every {@code kubectl ... -f -} call, in order. */
  List<String> manifests() throws IOException {
    Path file = stubDir.resolve("kubectl.stdin");
    if (!Files.exists(file)) {
      return List.of();
    }
    String all = Files.readString(file);
    return List.of(all.substring(0, all.length() - 1).split("\0", -1));
  }

  /**
   * Parses a stand-in's log: per call, the argument count and then each argument, all
   * NUL-terminated.
   */
  List<List<String>> calls(String log) throws IOException {
    Path file = stubDir.resolve(log);
    List<List<String>> calls = new ArrayList<>();
    if (!Files.exists(file)) {
      return calls;
    }
    String[] fields = Files.readString(file, StandardCharsets.UTF_8).split("\0", -1);
    int i = 0;
    while (i < fields.length - 1) {
      int count = Integer.parseInt(fields[i]);
      calls.add(List.of(Arrays.copyOfRange(fields, i + 1, i + 1 + count)));
      i += 1 + count;
    }
    return calls;
  }

  /** Pids of the commands the stand-in's exec started. */
  List<Long> remotePids() throws IOException {
    Path file = stubDir.resolve("remote.pids");
    if (!Files.exists(file)) {
      return List.of();
    }
    return Files.readAllLines(file).stream()
        .filter(s -> !s.isBlank())
        .map(Long::parseLong)
        .toList();
  }

  String read(String relative) throws IOException {
    return Files.readString(work.resolve(relative));
  }

  List<String> list(String relative) throws IOException {
    try (Stream<Path> files = Files.list(work.resolve(relative))) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  static List<String> words(String s) {
    return List.of(s.trim().split("\\s+"));
  }

  static void writeExecutable(Path file, String content) throws IOException {
    Files.writeString(file, content);
    assertTrue(file.toFile().setExecutable(true));
  }

  static Optional<Path> hostExecutable(String name) {
    return Stream.of(System.getenv("PATH").split(File.pathSeparator))
        .filter(dir -> !dir.isEmpty())
        .map(dir -> Path.of(dir, name))
        .filter(Files::isExecutable)
        .findFirst();
  }
}
