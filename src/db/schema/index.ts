// The shared tables (people, roles, delivery, FAQ, web chat). A feature added later keeps its
// tables in its own folder, src/features/<name>/schema.ts, which drizzle.config.ts also reads.
export * from "./conversations";
export * from "./delivery";
export * from "./directory";
export * from "./faq";
export * from "./instances";
export * from "./roles";
export * from "./users";
export * from "./webchat";
export * from "./whatsapp";
