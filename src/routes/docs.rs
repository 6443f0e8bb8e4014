//! The OpenAPI document, Swagger UI, and `/` pointing a browser to it.

use actix_web::{HttpResponse, get, http::header, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::startup::AppState;

pub(crate) const OPENAPI_PATH: &str = "/openapi.json";
pub(crate) const SWAGGER_UI_PATH: &str = "/docs/";

/// The OpenAPI 3.1 document this server implements.
#[get("/openapi.json")]
pub(crate) async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.clone())
}

#[get("/")]
pub(crate) async fn root() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, SWAGGER_UI_PATH))
        .finish()
}

/// Swagger UI, served from files compiled into the binary (it works offline).
pub(crate) fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").config(
        Config::from(OPENAPI_PATH)
            .try_it_out_enabled(true)
            .persist_authorization(true)
            .display_operation_id(true),
    )
}
