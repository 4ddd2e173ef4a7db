package configs

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// manifest is config/kubernetes/deployment.yaml: its documents by kind, and its text.
type manifest struct {
	text string
	docs map[string]map[string]any
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	content, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "kubernetes", "deployment.yaml"))
	require.NoError(t, err)
	m := manifest{text: string(content), docs: map[string]map[string]any{}}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "config/kubernetes/deployment.yaml does not parse")
		if doc == nil {
			continue // a document of comments only
		}
		kind, _ := doc["kind"].(string)
		require.NotEmpty(t, kind, "a document without a kind: %v", doc)
		require.NotContains(t, m.docs, kind, "two documents of kind %s", kind)
		m.docs[kind] = doc
	}
	return m
}

// configMapCommand is the `kubectl create configmap NAME --from-file=[KEY=]FILE` the
// manifest's header says to run.
var configMapCommand = regexp.MustCompile(`kubectl create configmap (\S+) --from-file=(\S+)`)

// TestKubernetesManifestAgreesWithTheFleetConfig parses every document of
// config/kubernetes/deployment.yaml and checks what must agree with
// config/kubernetes-fleet.yaml and with itself: the ConfigMap the header creates is the
// one mounted, under the key --config reads; the probes reach health_check's port;
// POD_NAME, the service.instance.id and lease owner, comes from the pod's name; every
// variable the config requires is set; several replicas, a shutdown grace that fits the
// receiver's shutdown, a PodDisruptionBudget over the same pods.
func TestKubernetesManifestAgreesWithTheFleetConfig(t *testing.T) {
	m := readManifest(t)
	deploy := m.docs["Deployment"]
	require.NotNil(t, deploy, "no Deployment")
	for _, kind := range []string{"ServiceAccount", "PodDisruptionBudget"} {
		require.Contains(t, m.docs, kind, "no %s", kind)
	}
	pod := dig(deploy, "spec", "template", "spec")
	containers, _ := dig(pod, "containers").([]any)
	require.Len(t, containers, 1, "one container")
	c := containers[0]

	replicas, _ := number(dig(deploy, "spec", "replicas"))
	assert.Greater(t, replicas, int64(1), "spec.replicas: a fleet has several")
	grace, _ := number(dig(pod, "terminationGracePeriodSeconds"))
	assert.GreaterOrEqual(t, grace, int64(30), "terminationGracePeriodSeconds: the receiver's shutdown (5 s grace, 5 s checkpoint, release) and the exporter's drain need it")
	assert.Equal(t, dig(m.docs["ServiceAccount"], "metadata", "name"), dig(pod, "serviceAccountName"), "the pods run as the ServiceAccount")

	// --config reads the ConfigMap the header creates, from the fleet config.
	args := stringList(dig(c, "args"))
	assert.Contains(t, args, "--feature-gates=+extension.healthcheck.useComponentStatus", "the health endpoint must follow the receiver's status")
	var configPath string
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "--config="); ok {
			configPath = p
		}
	}
	require.NotEmpty(t, configPath, "args: no --config=PATH in %v", args)
	cmd := configMapCommand.FindStringSubmatch(m.text)
	require.NotNil(t, cmd, "the manifest should say how to create the ConfigMap (kubectl create configmap NAME --from-file=...)")
	cmName, fromFile := cmd[1], cmd[2]
	key, file, explicit := strings.Cut(fromFile, "=")
	if !explicit {
		key, file = path.Base(fromFile), fromFile
	}
	assert.Equal(t, "config/kubernetes-fleet.yaml", file, "the ConfigMap is made from the fleet config")
	_, err := os.Stat(filepath.Join(repoRoot(t), filepath.FromSlash(file)))
	require.NoError(t, err, "the ConfigMap's file")
	assert.Equal(t, configPath, mountedPath(t, pod, c, cmName, key), "--config should read the ConfigMap %s's key %s where it is mounted", cmName, key)

	cfg := readYAML(t, filepath.Join(repoRoot(t), filepath.FromSlash(file)))
	cfgText, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(file)))
	require.NoError(t, err)
	env := containerEnv(c)

	// POD_NAME from the pod's name, and the config's service.instance.id from it.
	assert.Equal(t, "metadata.name", dig(env["POD_NAME"], "valueFrom", "fieldRef", "fieldPath"), "POD_NAME comes from the downward API's metadata.name")
	var instanceID any
	attrs, _ := dig(cfg, "service", "telemetry", "resource", "attributes").([]any)
	for _, a := range attrs {
		if dig(a, "name") == "service.instance.id" {
			instanceID = dig(a, "value")
		}
	}
	assert.Equal(t, "${env:POD_NAME}", instanceID, "service::telemetry::resource gives service.instance.id from POD_NAME")

	// Every variable the config requires is set on the container.
	for name, hasDefault := range envVars(string(cfgText)) {
		if !hasDefault {
			assert.Contains(t, env, name, "the config requires %s; the container does not set it", name)
		}
	}

	// The probes reach health_check.
	healthPort := listenPort(t, dig(cfg, "extensions", "health_check", "endpoint"), env)
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		p := dig(c, probe, "httpGet")
		require.NotNil(t, p, "%s: an httpGet probe", probe)
		assert.Equal(t, healthPort, containerPort(t, c, dig(p, "port")), "%s: the port of health_check's endpoint", probe)
	}

	// The PodDisruptionBudget covers these pods, one at a time.
	pdb := m.docs["PodDisruptionBudget"]
	unavailable, _ := number(dig(pdb, "spec", "maxUnavailable"))
	assert.Equal(t, int64(1), unavailable, "PodDisruptionBudget: maxUnavailable 1")
	assert.Equal(t, dig(deploy, "spec", "selector", "matchLabels"), dig(pdb, "spec", "selector", "matchLabels"), "the PodDisruptionBudget selects the Deployment's pods")
	assert.Equal(t, dig(deploy, "spec", "selector", "matchLabels"), dig(deploy, "spec", "template", "metadata", "labels"), "the Deployment selects its own pods")
}

// mountedPath is where the container sees the ConfigMap cmName's key.
func mountedPath(t *testing.T, pod, c any, cmName, key string) string {
	t.Helper()
	volumes, _ := dig(pod, "volumes").([]any)
	var volume any
	for _, v := range volumes {
		if dig(v, "configMap", "name") == cmName {
			volume = v
		}
	}
	require.NotNil(t, volume, "no volume of the ConfigMap %s", cmName)
	file := key
	if items, ok := dig(volume, "configMap", "items").([]any); ok {
		file = ""
		for _, it := range items {
			if dig(it, "key") == key {
				file, _ = dig(it, "path").(string)
			}
		}
		require.NotEmpty(t, file, "the volume of %s leaves out the key %s", cmName, key)
	}
	mounts, _ := dig(c, "volumeMounts").([]any)
	for _, mnt := range mounts {
		if dig(mnt, "name") == dig(volume, "name") {
			dir, _ := dig(mnt, "mountPath").(string)
			return path.Join(dir, file)
		}
	}
	t.Fatalf("the volume of %s is not mounted", cmName)
	return ""
}

// containerEnv is the container's env entries by name.
func containerEnv(c any) map[string]any {
	env := map[string]any{}
	list, _ := dig(c, "env").([]any)
	for _, e := range list {
		if name, ok := dig(e, "name").(string); ok {
			env[name] = e
		}
	}
	return env
}

// listenPort is the port of a listen address, ${env:NAME:-default} resolved with the
// container's env (a literal value) or the default.
func listenPort(t *testing.T, endpoint any, env map[string]any) int64 {
	t.Helper()
	s, _ := endpoint.(string)
	if m := envRef.FindStringSubmatch(s); m != nil {
		value, set := dig(env[m[1]], "value").(string)
		if !set {
			value = strings.TrimPrefix(m[2], ":-")
		}
		s = strings.Replace(s, m[0], value, 1)
	}
	_, port, err := net.SplitHostPort(s)
	require.NoError(t, err, "health_check::endpoint %v", endpoint)
	n, err := strconv.ParseInt(port, 10, 64)
	require.NoError(t, err, "health_check::endpoint %v", endpoint)
	return n
}

// containerPort resolves a probe's port, a number or the name of a container port.
func containerPort(t *testing.T, c, port any) int64 {
	t.Helper()
	if n, ok := number(port); ok {
		return n
	}
	ports, _ := dig(c, "ports").([]any)
	i := slices.IndexFunc(ports, func(p any) bool { return dig(p, "name") == port })
	require.GreaterOrEqual(t, i, 0, "no container port named %v", port)
	n, _ := number(dig(ports[i], "containerPort"))
	return n
}
