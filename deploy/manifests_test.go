package deploy

import (
	"bytes"
	"net"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	jobFile        = "kubernetes/fleet-job.yaml"
	podMonitorFile = "kubernetes/podmonitor.yaml"
	// startAtVar is rendered by envsubst when the guide applies the Job.
	startAtVar    = "${START_AT}"
	sampleStartAt = "2026-11-30T12:00:00Z"
	metricsPort   = "metrics" // the container port's name
)

// jobManifest is fleet-job.yaml decoded.
type jobManifest struct {
	job     batchv1.Job
	service corev1.Service
}

// loadJobManifest reads fleet-job.yaml as the guide applies it (START_AT
// rendered) and decodes each document strictly into its API type.
func loadJobManifest(t *testing.T) jobManifest {
	t.Helper()
	b := readFile(t, jobFile)
	if n := bytes.Count(b, []byte(startAtVar)); n != 1 {
		t.Fatalf("%s: %d occurrences of %s, want the one the guide's envsubst renders", jobFile, n, startAtVar)
	}
	b = bytes.ReplaceAll(b, []byte(startAtVar), []byte(sampleStartAt))
	var m jobManifest
	count := map[string]int{}
	for _, doc := range yamlDocuments(t, b) {
		apiVersion, kind := typeOf(t, doc)
		switch apiVersion + " " + kind {
		case "batch/v1 Job":
			decodeStrict(t, jobFile+": Job", doc, &m.job)
		case "v1 Service":
			decodeStrict(t, jobFile+": Service", doc, &m.service)
		default:
			t.Fatalf("%s: unexpected document %s %s", jobFile, apiVersion, kind)
		}
		count[kind]++
	}
	if count["Job"] != 1 || count["Service"] != 1 {
		t.Fatalf("%s: want one Job and one Service, have %v", jobFile, count)
	}
	return m
}

func (m jobManifest) pod() corev1.PodSpec { return m.job.Spec.Template.Spec }

// fleet returns the one container and its parsed command line.
func (m jobManifest) fleet(t *testing.T) (corev1.Container, parsedArgs) {
	t.Helper()
	cs := m.pod().Containers
	if len(cs) != 1 {
		t.Fatalf("want one container (the fleet), have %d", len(cs))
	}
	p, err := parseCallctl(expandArgs(t, cs[0]))
	if err != nil {
		t.Fatalf("container %s: %v", cs[0].Name, err)
	}
	if p.command != "fleet" {
		t.Fatalf("container %s runs callctl %s, want fleet", cs[0].Name, p.command)
	}
	if len(p.unparsed) > 0 {
		t.Logf("callctl fleet has no sharding or metrics flags yet: %v checked here only", p.unparsed)
	}
	return cs[0], p
}

func TestFleetJobIsIndexed(t *testing.T) {
	m := loadJobManifest(t)
	spec := m.job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed (it sets JOB_COMPLETION_INDEX)", spec.CompletionMode)
	}
	if spec.Completions == nil || spec.Parallelism == nil {
		t.Fatal("want completions and parallelism set")
	}
	if *spec.Completions != *spec.Parallelism {
		t.Fatalf("completions %d, parallelism %d: want equal, every shard running at once", *spec.Completions, *spec.Parallelism)
	}
	_, p := m.fleet(t)
	if got := p.value(t, "shard-count"); got != strconv.Itoa(int(*spec.Completions)) {
		t.Errorf("--shard-count %s, completions %d: want equal", got, *spec.Completions)
	}
	if p.given("shard-index") {
		t.Error("--shard-index is set: every shard runs the same command line and takes JOB_COMPLETION_INDEX")
	}
	if pol := m.pod().RestartPolicy; pol != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q: a restarted shard would join late; want Never", pol)
	}
}

func TestFleetJobArgs(t *testing.T) {
	m := loadJobManifest(t)
	_, p := m.fleet(t)
	for _, f := range []string{"server", "rooms", "publishers", "subscribers", "duration"} {
		if !p.given(f) {
			t.Errorf("fleet sets no --%s", f)
		}
	}
	if _, err := time.Parse(time.RFC3339, p.value(t, "start-at")); err != nil {
		t.Errorf("--start-at: %v", err)
	}
	d, err := time.ParseDuration(p.value(t, "duration"))
	if dl := m.job.Spec.ActiveDeadlineSeconds; err != nil || dl == nil || time.Duration(*dl)*time.Second < 2*d {
		t.Errorf("activeDeadlineSeconds %v, --duration %v (%v): want a deadline of at least twice the duration (the wait for --start-at comes first)", dl, d, err)
	}
	for _, c := range m.pod().InitContainers {
		if _, err := parseCallctl(expandArgs(t, c)); err != nil {
			t.Errorf("init container %s: %v", c.Name, err)
		}
		if c.Image != m.pod().Containers[0].Image {
			t.Errorf("init container %s runs %s, the fleet %s: want one image", c.Name, c.Image, m.pod().Containers[0].Image)
		}
	}
}

// TestFleetJobClips checks that the fleet replays the clips its init
// container writes: the file: sources lie in the volume the clips go to.
func TestFleetJobClips(t *testing.T) {
	m := loadJobManifest(t)
	fleet, p := m.fleet(t)
	var clips corev1.Container
	var out parsedArgs
	for _, c := range m.pod().InitContainers {
		if pc, err := parseCallctl(expandArgs(t, c)); err == nil && pc.command == "clips" {
			clips, out = c, pc
		}
	}
	if clips.Name == "" {
		t.Fatal("no init container runs callctl clips")
	}
	vol := volumeAt(clips, out.value(t, "out"))
	if vol == "" {
		t.Fatalf("clips --out %s is not a mounted volume", out.value(t, "out"))
	}
	for _, f := range []string{"video", "audio"} {
		file, ok := strings.CutPrefix(p.value(t, f), "file:")
		if !ok {
			continue
		}
		if got := volumeAt(fleet, file); got != vol {
			t.Errorf("--%s %s: in volume %q, the clips are written to %q", f, file, got, vol)
		}
	}
}

// volumeAt names the volume that holds path in c ("" for none).
func volumeAt(c corev1.Container, p string) string {
	p = path.Clean(p)
	for _, vm := range c.VolumeMounts {
		if m := path.Clean(vm.MountPath); p == m || strings.HasPrefix(p, m+"/") {
			return vm.Name
		}
	}
	return ""
}

func TestFleetJobResourcesAndUser(t *testing.T) {
	m := loadJobManifest(t)
	pod := m.pod()
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if !hasReq || !hasLim || req.Cmp(lim) > 0 {
				t.Errorf("container %s: %s request %v, limit %v: want both, request ≤ limit", c.Name, r, req.String(), lim.String())
			}
		}
		if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
			t.Errorf("container %s: want readOnlyRootFilesystem", c.Name)
		}
	}
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil {
		t.Fatal("pod securityContext: want runAsNonRoot and runAsUser")
	}
	if uid := dockerfileUID(t); strconv.FormatInt(*sc.RunAsUser, 10) != uid {
		t.Errorf("runAsUser %d, the Dockerfile's USER %s: want equal", *sc.RunAsUser, uid)
	}
}

// TestFleetJobMetrics checks that what Prometheus is told to scrape (the
// annotations, the headless Service, the PodMonitor) is the port fleet
// serves its metrics on.
func TestFleetJobMetrics(t *testing.T) {
	m := loadJobManifest(t)
	fleet, p := m.fleet(t)
	_, port, err := net.SplitHostPort(p.value(t, "metrics-addr"))
	if err != nil {
		t.Fatalf("--metrics-addr: %v", err)
	}
	if cp := containerPort(fleet, metricsPort); strconv.Itoa(int(cp)) != port {
		t.Errorf("--metrics-addr port %s, container port %q %d: want equal", port, metricsPort, cp)
	}
	ann := m.job.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations %v: want scrape true, port %s, path /metrics", ann, port)
	}
	checkService(t, m, port)
	checkPodMonitor(t, m.job.Spec.Template.Labels)
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func checkService(t *testing.T, m jobManifest, port string) {
	t.Helper()
	s := m.service
	if s.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service clusterIP %q: want None (headless)", s.Spec.ClusterIP)
	}
	if m.pod().Subdomain != s.Name {
		t.Errorf("pod subdomain %q, Service %q: want equal (per-shard DNS names)", m.pod().Subdomain, s.Name)
	}
	if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(m.job.Spec.Template.Labels)) {
		t.Errorf("Service selector %v does not select the pods %v", s.Spec.Selector, m.job.Spec.Template.Labels)
	}
	for _, sp := range s.Spec.Ports {
		if strconv.Itoa(int(sp.Port)) == port && sp.TargetPort.String() == metricsPort {
			return
		}
	}
	t.Errorf("Service ports %+v: want %s to the container port %q", s.Spec.Ports, port, metricsPort)
}

// podMonitor is the part of the Prometheus Operator's
// monitoring.coreos.com/v1 PodMonitor that podmonitor.yaml uses, with the
// CRD's field names: its Go types are not in k8s.io/api, and decoding
// strictly into this subset still catches a misspelt field.
type podMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector            metav1.LabelSelector `json:"selector"`
		PodMetricsEndpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

func checkPodMonitor(t *testing.T, podLabels map[string]string) {
	t.Helper()
	docs := yamlDocuments(t, readFile(t, podMonitorFile))
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", podMonitorFile, len(docs))
	}
	var pm podMonitor
	decodeStrict(t, podMonitorFile, docs[0], &pm)
	if pm.APIVersion != "monitoring.coreos.com/v1" || pm.Kind != "PodMonitor" {
		t.Errorf("%s: %s %s", podMonitorFile, pm.APIVersion, pm.Kind)
	}
	sel, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(podLabels)) {
		t.Errorf("%s: selector %v (%v) does not select the pods %v", podMonitorFile, pm.Spec.Selector, err, podLabels)
	}
	eps := pm.Spec.PodMetricsEndpoints
	if len(eps) != 1 || eps[0].Port != metricsPort || eps[0].Path != "/metrics" {
		t.Fatalf("%s: endpoints %+v: want one, port %q, path /metrics", podMonitorFile, eps, metricsPort)
	}
	if d, err := time.ParseDuration(eps[0].Interval); err != nil || d <= 0 {
		t.Errorf("%s: interval %q: %v", podMonitorFile, eps[0].Interval, err)
	}
}
