// Every table of the app. Each feature that persists something adds its own file here.
export * from "./conversations";
export * from "./delivery";
export * from "./directory";
export * from "./faq";
export * from "./roles";
export * from "./users";
export * from "./webchat";
