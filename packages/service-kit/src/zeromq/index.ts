// @osad2/service-kit/zeromq: the ZeroMQ plumbing osad2's services share (binding with an
// explanation, the CURVE check, the ZAP handler). A subpath so that the main entry never
// loads zeromq: keys and packager use service-kit without it.
export { bindOnce, bindWithRetry } from "./bind.js";
export { CurveUnavailableError, assertCurveAvailable } from "./curve.js";
export { ZapResponder, ZAP_ENDPOINT } from "./zap.js";

export type { BindOptions, BindErrorClass } from "./bind.js";
export type {
  ZapDecider,
  ZapVerdict,
  ZapReplyTurn,
  ZapCurveRequest,
  ZapRefusal,
  ZapResponderOptions,
} from "./zap.js";
