// One implementation for server and client: the limiter lives in @osad2/service-kit.
export { LogRateLimiter } from "@osad2/service-kit";
