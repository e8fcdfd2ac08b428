// Validate Kubernetes objects with the validators generated from the CRDs
// (@kubernetes-models/gateway-api, @kubernetes-models/istio). Reads a JSON list of
// objects on stdin; writes a JSON list with, for each object, "" or the error.
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { DestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";

const models = {
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute,
  "networking.istio.io/v1/VirtualService": VirtualService,
  "networking.istio.io/v1/DestinationRule": DestinationRule,
};
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((object) => {
    const Model = models[`${object.apiVersion}/${object.kind}`];
    if (!Model) return `no validator for ${object.apiVersion} ${object.kind}`;
    try {
      new Model(object).validate();
      return "";
    } catch (error) {
      return String(error.message);
    }
  });
  process.stdout.write(JSON.stringify(results));
});
