"""Traffic engineering as reviewed changes: gradual rollout, mirroring, segments, affinity.

- `model`: the routing of one application, the state of its release, and the decision
  an assessment leads to (pure, no I/O);
- `render`: the objects of each environment (Gateway API HTTPRoute, Istio VirtualService
  and DestinationRule, KServe InferenceService, a plain Service) for a state;
- `manifests`: the manifest file's text for the next state, editing a user's file in
  place (every other byte kept) or writing a new one.

The `traffic` task and `iter8 traffic render` use them; the change reaches the cluster
through the pull or merge request that the rollout machinery opens.
"""
